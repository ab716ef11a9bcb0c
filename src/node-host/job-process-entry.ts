// Entry of the Node child job process (forked with IPC by forkJobProcess).
import type { ToJobProcess } from '../main/core/jobs/protocol'
import { serveJobs } from '../main/core/jobs/worker'
import { jobHandlers } from '../main/core/job-handlers'

const handle = serveJobs(jobHandlers, (m) => process.send?.(m))
process.on('message', (m) => handle(m as ToJobProcess))
process.on('disconnect', () => process.exit(0))
