// The job process's side of a GPU engine: a TrainingEngine whose calls travel over a message port to the GPU
// worker page (src/gpu-worker, WebGL2) or the WebGPU thread (webgpu-thread.ts), which serve TfjsEngine. Failures come back typed: out of
// GPU memory, context lost, no float render targets.
import type { EngineCall, EngineCalls, FromGpuWorker, GpuWorkerFailure, GpuWorkerHello, ToGpuWorker } from '../../../shared/gpu-worker'
import type { TrainingEngine } from './engine'

/** A message port as each host has it (Electron's MessagePortMain, a DOM MessagePort, a test bridge). */
export interface EnginePort {
  postMessage(message: ToGpuWorker): void
  /** Called for each message; `onClose` when the other end is gone (the window closed or crashed). */
  listen(onMessage: (message: FromGpuWorker) => void, onClose: () => void): void
  close(): void
}

/** The worker could not do a call: `failure.kind` says why (see GpuWorkerFailure). */
export class GpuWorkerError extends Error {
  constructor(readonly failure: GpuWorkerFailure) {
    super(failure.message)
    this.name = 'GpuWorkerError'
  }
}

const HELLO_TIMEOUT_MS = 60_000

export class RemoteEngine implements TrainingEngine {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>()
  /** Set once the device is gone: every later call fails with it. */
  private lost: GpuWorkerFailure | null = null

  private constructor(
    private readonly port: EnginePort,
    readonly hello: GpuWorkerHello
  ) {}

  /** Connect to a GPU engine on `port`: it answers `hello` with its backend and renderer. The port is closed when it cannot start. */
  static async connect(port: EnginePort, timeoutMs = HELLO_TIMEOUT_MS): Promise<RemoteEngine> {
    let engine: RemoteEngine | null = null
    const early: FromGpuWorker[] = []
    const hello = new Promise<GpuWorkerHello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The GPU engine did not answer within ${timeoutMs / 1000} s.`)), timeoutMs)
      port.listen(
        (m) => {
          if (engine) engine.receive(m)
          else if (m.type === 'hello') {
            clearTimeout(timer)
            resolve(m.hello)
          } else if (m.type === 'error') {
            clearTimeout(timer)
            reject(new GpuWorkerError(m.failure))
          } else early.push(m)
        },
        () => {
          if (engine) engine.closed()
          else {
            clearTimeout(timer)
            reject(new GpuWorkerError({ kind: 'context-lost', message: 'The GPU engine closed before it answered.' }))
          }
        }
      )
      port.postMessage({ type: 'hello', id: 0 })
    })
    try {
      engine = new RemoteEngine(port, await hello)
    } catch (err) {
      port.close()
      throw err
    }
    for (const m of early) engine.receive(m)
    return engine
  }

  private receive(m: FromGpuWorker): void {
    if (m.type === 'lost') return this.fail(m.failure)
    if (m.type === 'hello') return
    const call = this.pending.get(m.id)
    if (!call) return
    this.pending.delete(m.id)
    if (m.type === 'result') call.resolve(m.value)
    else {
      if (m.failure.kind === 'context-lost') this.lost = m.failure
      call.reject(new GpuWorkerError(m.failure))
    }
  }

  private closed(): void {
    this.fail({ kind: 'context-lost', message: 'The GPU engine stopped (its window or thread closed or crashed).' })
  }

  private fail(failure: GpuWorkerFailure): void {
    this.lost ??= failure
    for (const call of this.pending.values()) call.reject(new GpuWorkerError(failure))
    this.pending.clear()
  }

  private call<C extends EngineCall>(call: C, ...args: EngineCalls[C]['args']): Promise<EngineCalls[C]['result']> {
    if (this.lost) return Promise.reject(new GpuWorkerError(this.lost))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.port.postMessage({ type: 'call', id, call, args } as ToGpuWorker)
    })
  }

  build = (...a: EngineCalls['build']['args']) => this.call('build', ...a)
  trainStep = (...a: EngineCalls['trainStep']['args']) => this.call('trainStep', ...a)
  evaluateBatch = (...a: EngineCalls['evaluateBatch']['args']) => this.call('evaluateBatch', ...a)
  gradients = (...a: EngineCalls['gradients']['args']) => this.call('gradients', ...a)
  predict = (...a: EngineCalls['predict']['args']) => this.call('predict', ...a)
  getWeights = () => this.call('getWeights')
  getOptimizerState = () => this.call('getOptimizerState')
  setOptimizerState = (...a: EngineCalls['setOptimizerState']['args']) => this.call('setOptimizerState', ...a)
  memory = () => this.call('memory')

  async dispose(): Promise<void> {
    if (!this.lost) await this.call('dispose').catch(() => undefined)
  }

  /** Release the network and close the port (the worker page stays for the next job). */
  async close(): Promise<void> {
    await this.dispose()
    this.port.close()
  }
}
