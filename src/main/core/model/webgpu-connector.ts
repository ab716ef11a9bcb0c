// Starts the WebGPU thread (webgpu-thread.ts) and gives its port to RemoteEngine, the same client the GPU worker
// page has: one protocol, one set of typed failures, whichever GPU engine answers.
import { Worker } from 'node:worker_threads'
import type { FromGpuWorker } from '../../../shared/gpu-worker'
import type { EnginePort } from './remote-engine'
import { threadEntry } from '../jobs/thread-entry'

export interface WebGpuThreadData {
  /** Tests only: destroy the device when this training step (counted from 1) arrives, as a lost GPU would. */
  loseDeviceAtStep?: number
}

/** A fresh WebGPU thread and the port to it; closing the port ends the thread. */
export function openWebGpuPort(data: WebGpuThreadData = {}): EnginePort {
  const entry = threadEntry('webgpu-thread', new URL('./webgpu-thread.ts', import.meta.url), import.meta.url)
  const worker = new Worker(entry.script, { eval: entry.eval, execArgv: [], workerData: data })
  let closed = false
  return {
    postMessage: (m) => worker.postMessage(m),
    listen(onMessage, onClose) {
      worker.on('message', (m: FromGpuWorker) => onMessage(m))
      worker.on('exit', () => {
        if (!closed) onClose()
      })
    },
    close() {
      closed = true
      void worker.terminate()
    }
  }
}
