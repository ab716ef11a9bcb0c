// Job process hosts that need no Electron: a Node child process (web host) and in-process (CLI).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FromJobProcess, JobProcess, ToJobProcess } from '../main/core/jobs/protocol'
import { serveJobs } from '../main/core/jobs/worker'
import type { JobHandlers } from '../main/core/jobs/context'
import { jobHandlers } from '../main/core/job-handlers'

/** A Node child process running the job worker (TypeScript through tsx). */
export function forkJobProcess(): JobProcess {
  const entry = fileURLToPath(new URL('./job-process-entry.ts', import.meta.url))
  const child = fork(entry, [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return {
    send: (m) => child.send(m),
    onMessage: (l) => child.on('message', (m) => l(m as FromJobProcess)),
    onExit: (l) => child.once('exit', (code, signal) => l(`the job process exited (${signal ?? `code ${code}`})`)),
    kill: () => child.kill()
  }
}

/** Jobs run in this very process: for the CLI, which has no window to keep responsive. Tests may wrap a handler. */
export function inProcessJobs(handlers: JobHandlers = jobHandlers): JobProcess {
  const listeners: ((m: FromJobProcess) => void)[] = []
  const handle = serveJobs(handlers, (m) => queueMicrotask(() => listeners.forEach((l) => l(m))))
  return {
    send: (m: ToJobProcess) => handle(m),
    onMessage: (l) => listeners.push(l),
    onExit: () => {},
    kill: () => {}
  }
}
