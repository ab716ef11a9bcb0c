// Entry of the Node child job process (forked with IPC by forkJobProcess).
import type { ToJobProcess } from './protocol'
import { serveJobs } from './worker'

const handle = serveJobs((m) => process.send?.(m))
process.on('message', (m) => handle(m as ToJobProcess))
process.on('disconnect', () => process.exit(0))
