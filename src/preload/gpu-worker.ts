// The GPU worker window's preload: hands the page the MessagePort the main process sends, and nothing else
// (the page has no other way to receive a port under context isolation).
import { ipcRenderer } from 'electron'
import { GPU_WORKER_PORT_MESSAGE } from '../shared/gpu-worker'

// (The preload is type-checked with Node's types, which have no DOM window.)
const page = globalThis as unknown as { postMessage(message: string, targetOrigin: string, transfer: unknown[]): void }

ipcRenderer.on(GPU_WORKER_PORT_MESSAGE, (event) => {
  page.postMessage(GPU_WORKER_PORT_MESSAGE, '*', event.ports)
})
