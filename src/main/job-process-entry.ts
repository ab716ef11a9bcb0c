// Entry of the Electron utility process that runs long jobs (training, batch work), so no window freezes.
import type { MessagePortMain } from 'electron'
import type { ToJobProcess } from './core/jobs/protocol'
import { serveJobs } from './core/jobs/worker'
import { jobHandlers } from './core/job-handlers'
import { setGpuWorkerConnector } from './core/model/gpu-connector'
import type { EnginePort } from './core/model/remote-engine'
import { GPU_WORKER_REQUEST, type FromGpuWorker, type ToGpuWorker } from '../shared/gpu-worker'

const handle = serveJobs(jobHandlers, (m) => process.parentPort.postMessage(m))

// The GPU worker: each engine asks the main process for a port to the hidden worker window (answered in order).
const waiting: Array<{ resolve: (port: EnginePort) => void; reject: (err: Error) => void }> = []

function enginePort(port: MessagePortMain): EnginePort {
  return {
    postMessage: (m: ToGpuWorker) => port.postMessage(m),
    listen(onMessage, onClose) {
      port.on('message', (e) => onMessage(e.data as FromGpuWorker))
      port.on('close', onClose)
      port.start()
    },
    close: () => port.close()
  }
}

setGpuWorkerConnector(
  () =>
    new Promise<EnginePort>((resolve, reject) => {
      waiting.push({ resolve, reject })
      process.parentPort.postMessage({ type: GPU_WORKER_REQUEST })
    })
)

process.parentPort.on('message', (e) => {
  const data = e.data as { type?: string; error?: string }
  if (data?.type !== GPU_WORKER_REQUEST) return handle(e.data as ToJobProcess)
  const request = waiting.shift()
  if (data.error || !e.ports[0]) request?.reject(new Error(data.error ?? 'The main process sent no GPU worker port.'))
  else request?.resolve(enginePort(e.ports[0]))
})
