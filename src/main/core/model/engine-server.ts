// The serving end of the GPU engine protocol (shared/gpu-worker.ts): a TfjsEngine on a GPU backend that answers
// calls in order over a port, each failure typed (out of memory, device lost). One server for both GPU engines:
// the GPU worker page (WebGL2 in Chromium, src/gpu-worker) and the WebGPU thread (Dawn in Node, webgpu-thread.ts).
// No DOM or Node API here; the job process's end is RemoteEngine.
import { TfjsEngine } from './engine'
import type { FromGpuWorker, GpuWorkerFailure, GpuWorkerHello, ToGpuWorker, WeightSet } from '../../../shared/gpu-worker'

/** Renderers and adapters that draw with the CPU: never called a GPU. */
export const SOFTWARE_RENDERER = /SwiftShader|llvmpipe|lavapipe|softpipe|Basic Render Driver|Microsoft Basic|software/i

/** Whether the GPU is still there: lost once, lost for good (a lost WebGL context or WebGPU device does not come back). */
export class GpuDeviceWatch {
  private failure: GpuWorkerFailure | null = null
  private readonly listeners = new Set<(failure: GpuWorkerFailure) => void>()

  /** `probe` asks the device itself, for a loss whose event has not been delivered yet (a message, or null). */
  constructor(private readonly probe: () => string | null = () => null) {}

  lost(): GpuWorkerFailure | null {
    if (!this.failure) {
      const message = this.probe()
      if (message) this.markLost(message)
    }
    return this.failure
  }

  markLost(message: string): void {
    if (this.failure) return
    this.failure = { kind: 'context-lost', message }
    for (const l of this.listeners) l(this.failure)
  }

  /** Call `listener` when the device is lost; returns the way to stop. */
  onLost(listener: (failure: GpuWorkerFailure) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** A failed call's reason, by kind: the device's loss first (its errors are only symptoms), then out of memory. */
export function classifyFailure(err: unknown, watch: GpuDeviceWatch): GpuWorkerFailure {
  const gone = watch.lost()
  if (gone) return gone
  const message = err instanceof Error ? err.message : String(err)
  if (/context.?lost|CONTEXT_LOST|device (was |is )?(lost|destroyed)/i.test(message)) return { kind: 'context-lost', message }
  if (
    /greater than WebGL maximum|out of memory|\bOOM\b|Failed to create WebGL texture|allocation failed|failed to allocate|exceeds the max buffer size|maxBufferSize/i.test(
      message
    )
  )
    return { kind: 'out-of-memory', message }
  return { kind: 'failed', message }
}

/** A call's result buffers, moved rather than copied. */
function transferables(value: unknown): ArrayBuffer[] {
  if (value instanceof Float32Array) return [value.buffer as ArrayBuffer]
  const set = value as WeightSet | null
  if (set && set.data instanceof Float32Array) return [set.data.buffer as ArrayBuffer]
  return []
}

/** One connection as the host has it (a DOM MessagePort, a worker thread's port). */
export interface ServedPort {
  send(message: FromGpuWorker, transfer: ArrayBuffer[]): void
  listen(onMessage: (message: ToGpuWorker) => void): void
}

/**
 * Serve one connection: its own engine, calls answered in order. `started` is the backend's start (its hello, or
 * why it could not start); a call during or after the device's loss is answered with the loss, never with the
 * zeros a lost device leaves where results should be.
 */
export function serveEngine(port: ServedPort, started: Promise<GpuWorkerHello | GpuWorkerFailure>, watch: GpuDeviceWatch): void {
  const engine = new TfjsEngine()
  const send = (m: FromGpuWorker, transfer: ArrayBuffer[] = []) => port.send(m, transfer)
  const stopWatching = watch.onLost((failure) => send({ type: 'lost', failure }))
  let queue = Promise.resolve()
  port.listen((m) => {
    queue = queue.then(async () => {
      const ready = await started
      if (!('backend' in ready)) return send({ type: 'error', id: m.id, failure: ready })
      if (m.type === 'hello') return send({ type: 'hello', id: m.id, hello: ready })
      const gone = watch.lost()
      if (gone) return send({ type: 'error', id: m.id, failure: gone })
      try {
        const value: unknown = await (engine[m.call] as (...args: unknown[]) => Promise<unknown>)(...m.args)
        const lostDuring = watch.lost()
        if (lostDuring) return send({ type: 'error', id: m.id, failure: lostDuring })
        send({ type: 'result', id: m.id, value }, transferables(value))
      } catch (err) {
        send({ type: 'error', id: m.id, failure: classifyFailure(err, watch) })
      }
      if (m.call === 'dispose') stopWatching()
    })
  })
}
