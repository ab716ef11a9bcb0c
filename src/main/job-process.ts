// The Electron job process: one utilityProcess, started when the first job needs it.
import { utilityProcess } from 'electron'
import { join } from 'node:path'
import type { FromJobProcess, JobProcess } from './core/jobs/protocol'
import { GPU_WORKER_REQUEST } from '../shared/gpu-worker'
import { gpuWorkerPort } from './gpu-window'

/** Whether a message from the job process asks for a GPU worker port (answered here with the port, not a job message). */
function isGpuWorkerRequest(m: unknown): boolean {
  return (m as { type?: unknown } | null)?.type === GPU_WORKER_REQUEST
}

export function electronJobProcess(): JobProcess {
  const child = utilityProcess.fork(join(__dirname, 'job-process.js'), [], { serviceName: 'Leafseg jobs', stdio: 'inherit' })
  child.on('message', (m) => {
    if (!isGpuWorkerRequest(m)) return
    gpuWorkerPort().then(
      (port) => child.postMessage({ type: GPU_WORKER_REQUEST }, [port]),
      (err: Error) => child.postMessage({ type: GPU_WORKER_REQUEST, error: `The GPU worker window did not open: ${err.message}` })
    )
  })
  return {
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m) => isGpuWorkerRequest(m) || l(m as FromJobProcess)),
    onExit: (l) => child.once('exit', (code) => l(`the job process exited (code ${code})`)),
    kill: () => child.kill()
  }
}
