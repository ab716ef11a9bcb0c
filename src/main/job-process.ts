// The Electron job process: one utilityProcess, started when the first job needs it.
import { utilityProcess } from 'electron'
import { join } from 'node:path'
import type { FromJobProcess, JobProcess } from './core/jobs/protocol'

export function electronJobProcess(): JobProcess {
  const child = utilityProcess.fork(join(__dirname, 'job-process.js'), [], { serviceName: 'Leafseg jobs', stdio: 'inherit' })
  return {
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m) => l(m as FromJobProcess)),
    onExit: (l) => child.once('exit', (code) => l(`the job process exited (code ${code})`)),
    kill: () => child.kill()
  }
}
