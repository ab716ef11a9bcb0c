// The Electron host: windows, the IPC adapter, the job process. Everything else is the core's.
import { app, BrowserWindow, dialog, protocol, session, shell } from 'electron'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LeafsegService } from './core/service/service'
import { registerIpc } from './ipc'
import { electronJobProcess } from './job-process'
import { displayFile } from './core/imaging/display'
import { toApiError } from './core/service/dispatch'
import { decodedUrlPart } from './core/service/paths'
import { fileProtocolCorsOrigin, hardenContents, hardenSession } from './security'

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
  if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(rendererFile)
  return win
}

// Every window's contents (the main window, and any hidden one) stay on the app's pages.
app.on('web-contents-created', (_event, contents) => hardenContents(contents, rendererUrl, (url) => void shell.openExternal(url)))

void app.whenReady().then(() => {
  hardenSession(session.defaultSession)
  const service = new LeafsegService({
    host: 'electron',
    userDataDir: app.getPath('userData'),
    jobProcess: electronJobProcess,
    typedPathsAreChoices: false,
    // The test job is for development (the dev server, or LEAFSEG_DEV=1 as for the CLI) only; a user's app does not offer it.
    demoJob: Boolean(devServerUrl) || process.env.LEAFSEG_DEV === '1',
    async pickFolder(title) {
      const parent = BrowserWindow.getFocusedWindow()
      const options = { title, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] }
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options)
      return result.canceled ? null : (result.filePaths[0] ?? null)
    }
  })
  protocol.handle(fileScheme, async (request) => {
    // CORS lets the renderer (a file: page) read layer pixels back from a canvas: our own page only.
    const origin = fileProtocolCorsOrigin(request.headers.get('origin'), rendererUrl)
    const cors: Record<string, string> = origin ? { 'access-control-allow-origin': origin, vary: 'origin' } : { vary: 'origin' }
    const relativePath = decodedUrlPart(new URL(request.url).pathname.slice(1))
    if (relativePath === null) return new Response('Bad percent-encoding in the file address.', { status: 400, headers: cors })
    try {
      // The same allow-list as the web host's /files/: content folders only, never the database.
      const { body, contentType } = await displayFile(service.projectFile(relativePath))
      return new Response(new Uint8Array(body), { headers: { ...cors, 'content-type': contentType, 'cache-control': 'no-cache' } })
    } catch (err) {
      const error = toApiError(err)
      return new Response(error.message, { status: error.code === 'forbidden' ? 403 : 404, headers: cors })
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
