// The GPU worker window: a hidden, sandboxed, context-isolated window whose page (src/gpu-worker) runs tfjs on
// WebGL2 or WebGPU. Opened when the job process first asks for a port (a job that trains or predicts on the
// GPU), never at start-up; each request gets a fresh MessageChannelMain, one end to the page, one to the job.
import { app, BrowserWindow, MessageChannelMain, type MessagePortMain } from 'electron'
import { join } from 'node:path'
import { GPU_WORKER_PORT_MESSAGE } from '../shared/gpu-worker'

let worker: { window: BrowserWindow; loaded: Promise<void> } | null = null

function openWindow(): { window: BrowserWindow; loaded: Promise<void> } {
  if (worker && !worker.window.isDestroyed()) return worker
  const window = new BrowserWindow({
    show: false,
    title: 'Leafseg GPU worker',
    webPreferences: {
      preload: join(__dirname, '../preload/gpu-worker.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      // A hidden window is throttled by default: training would crawl.
      backgroundThrottling: false
    }
  })
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }))
  window.webContents.on('will-navigate', (e) => e.preventDefault())
  // A crashed page closes its ports: the job process's engine then stops the run with "the GPU worker stopped".
  window.webContents.on('render-process-gone', () => window.destroy())
  const devServerUrl = process.env.ELECTRON_RENDERER_URL
  const loaded = devServerUrl ? window.loadURL(`${devServerUrl}/gpu-worker.html`) : window.loadFile(join(__dirname, '../renderer/gpu-worker.html'))
  worker = { window, loaded }
  return worker
}

/** A port to the GPU worker page (opening its window if needed); the other end is handed to the page. */
export async function gpuWorkerPort(): Promise<MessagePortMain> {
  const { window, loaded } = openWindow()
  await loaded
  const { port1, port2 } = new MessageChannelMain()
  window.webContents.postMessage(GPU_WORKER_PORT_MESSAGE, null, [port1])
  return port2
}

// The hidden window must not keep the app alive: when the last other window closes, it closes too.
app.on('browser-window-created', (_event, created) => {
  created.once('closed', () => {
    const others = BrowserWindow.getAllWindows().filter((w) => w !== worker?.window && w !== created)
    if (others.length === 0 && worker && !worker.window.isDestroyed()) worker.window.destroy()
  })
})
