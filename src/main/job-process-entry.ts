// Entry of the Electron utility process that runs long jobs (training, batch work), so no window freezes.
import type { ToJobProcess } from './core/jobs/protocol'
import { serveJobs } from './core/jobs/worker'
import { jobHandlers } from './core/job-handlers'

const handle = serveJobs(jobHandlers, (m) => process.parentPort.postMessage(m))
process.parentPort.on('message', (e) => handle(e.data as ToJobProcess))
