// The Electron host: windows, the IPC adapter, the job process. Everything else is the core's.
import { app, BrowserWindow, dialog, protocol, shell } from 'electron'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LeafsegService } from './core/service/service'
import { registerIpc } from './ipc'
import { electronJobProcess } from './job-process'
import { displayFile } from './core/imaging/display'
import { toApiError } from './core/service/dispatch'

// Project files (thumbnails, photos, masks) reach the renderer as leafseg-file://project/<relative path>.
const fileScheme = 'leafseg-file'
protocol.registerSchemesAsPrivileged([{ scheme: fileScheme, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }])

const devServerUrl = process.env.ELECTRON_RENDERER_URL
const rendererFile = join(__dirname, '../renderer/index.html')
const rendererUrl = devServerUrl ?? pathToFileURL(rendererFile).href

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 880,
    minWidth: 900,
    minHeight: 600,
    title: 'Leafseg',
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true
    }
  })
  win.once('ready-to-show', () => win.show())
  // Links open in the user's browser; the app never navigates away from its own page.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (e, url) => {
    if (!url.startsWith(rendererUrl)) e.preventDefault()
  })
  if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(rendererFile)
  return win
}

void app.whenReady().then(() => {
  const service = new LeafsegService({
    host: 'electron',
    userDataDir: app.getPath('userData'),
    jobProcess: electronJobProcess,
    typedPathsAreChoices: false,
    async pickFolder(title) {
      const parent = BrowserWindow.getFocusedWindow()
      const options = { title, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] }
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options)
      return result.canceled ? null : (result.filePaths[0] ?? null)
    }
  })
  protocol.handle(fileScheme, async (request) => {
    try {
      const file = service.projectFile(decodeURIComponent(new URL(request.url).pathname.slice(1)))
      const { body, contentType } = await displayFile(file)
      // CORS lets the renderer (a file: page) read layer pixels back from a canvas.
      return new Response(new Uint8Array(body), { headers: { 'content-type': contentType, 'cache-control': 'no-cache', 'access-control-allow-origin': '*' } })
    } catch (err) {
      return new Response(toApiError(err).message, { status: 404 })
    }
  })
  registerIpc(service, () => BrowserWindow.getAllWindows(), rendererUrl)
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
  app.on('before-quit', () => service.dispose())
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
