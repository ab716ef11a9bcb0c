// Electron's utilityProcess.fork, played by a plain Node child process: the built bundle runs as it would
// in Electron (an ES module that talks through process.parentPort), with Node in place of Electron.
import { fork, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import { GPU_WORKER_REQUEST } from '../../src/shared/gpu-worker'

const parentPortShim = fileURLToPath(new URL('./parent-port.mjs', import.meta.url))

/** What the main process holds of a utility process: postMessage, 'message' and 'exit' events, kill. */
export class NodeUtilityProcess extends EventEmitter {
  readonly child: ChildProcess

  constructor(modulePath: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    super()
    this.child = fork(modulePath, args, {
      execArgv: ['--import', parentPortShim],
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.child.on('message', (m) => {
      // A job asking for the GPU worker's port: this stand-in has no worker window, so it answers as the main
      // process does when the window cannot open, and the job falls back to the CPU.
      if ((m as { type?: unknown } | null)?.type === GPU_WORKER_REQUEST)
        this.postMessage({ type: GPU_WORKER_REQUEST, error: 'no GPU worker window in this test' })
      else this.emit('message', m)
    })
    this.child.once('exit', (code) => this.emit('exit', code ?? 1))
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  postMessage(message: unknown): void {
    this.child.send(message as never)
  }

  kill(): boolean {
    return this.child.kill()
  }
}
