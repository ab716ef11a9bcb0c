// Data-parallel training on the wasm backend: N worker threads (engine-worker.ts), each with its own tfjs wasm
// instance and a copy of the network, each computing the gradients of its share of the batch. The shares'
// gradients are added in worker order (the same sum every time for a given seed and N) and every worker applies
// the same Adam step, so the copies stay identical. Evaluation and prediction spread their images the same way.
// The network has no batch statistics (no BatchNorm), and the loss is taken over the whole batch (see
// TfjsEngine.shardStep), so splitting a batch does not change the maths: only the order of additions.
import { Worker } from 'node:worker_threads'
import { threadEntry } from '../jobs/thread-entry'
import { availableParallelism } from 'node:os'
import { clampWorkers } from '../../../shared/training-config'
import type { EngineCall, EngineCalls, EngineSetup, StepResult, WeightSet } from '../../../shared/gpu-worker'
import type { TrainingEngine } from './engine'
import { CONTROL, type FromPoolWorker, type PoolWorkerData, type ToPoolWorker } from './worker-protocol'

/** Workers by default: the cores less one for the data pipeline (or the photo reader), at least 1, at most the batch size. */
export function defaultWorkers(batchSize: number): number {
  return clampWorkers(availableParallelism() - 1, batchSize)
}

/** A worker thread stopped or failed: the run stops with this message. */
export class TrainingWorkerError extends Error {}

let running = 0
/** Worker threads of every pool alive in this process (a test checks that cancelled runs leave none). */
export function runningTrainingWorkers(): number {
  return running
}

/** A message before send() numbers it. */
type Unsent = ToPoolWorker extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
}

/** Images per worker: as equal as can be, the first workers taking one more. */
export function shareSizes(n: number, workers: number): number[] {
  return Array.from({ length: workers }, (_, k) => Math.floor(n / workers) + (k < n % workers ? 1 : 0))
}

export class WorkerPoolEngine implements TrainingEngine {
  private readonly control = new SharedArrayBuffer(CONTROL.length * 4)
  private readonly threads: Worker[] = []
  private readonly pending: Array<Map<number, Pending>> = []
  private nextId = 1
  private failure: TrainingWorkerError | null = null
  private closed = false
  private inputSize = 0
  private outputValuesPerImage = 0
  /** What each worker computes on ('CPU (wasm, one thread)'). */
  device = ''

  private constructor(readonly workers: number) {}

  static async start(workers: number, wasmDir: string): Promise<WorkerPoolEngine> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`The number of training workers must be a positive whole number (got ${workers}).`)
    const pool = new WorkerPoolEngine(workers)
    const entry = threadEntry('engine-worker', new URL('./engine-worker.ts', import.meta.url), import.meta.url)
    const started = Array.from({ length: workers }, (_, index) => {
      const data: PoolWorkerData = { index, workers, wasmDir, control: pool.control }
      // execArgv: none of this process's preloads (a worker thread has no IPC channel of its own).
      const thread = new Worker(entry.script, { workerData: data, eval: entry.eval, execArgv: [] })
      running++
      pool.threads.push(thread)
      pool.pending.push(new Map())
      return new Promise<string>((resolve, reject) => {
        thread.once('message', (m: FromPoolWorker) =>
          'ready' in m && m.ready
            ? resolve(m.device)
            : reject(new Error(`Training worker ${index + 1} could not start: ${'error' in m ? m.error : 'no answer'}`))
        )
        thread.on('message', (m: FromPoolWorker) => pool.answer(index, m))
        thread.on('error', (err) => {
          pool.fail(index, `failed: ${err.message}`)
          reject(err)
        })
        thread.on('exit', (code) => {
          running--
          if (!pool.closed) pool.fail(index, `stopped (exit code ${code})`)
          reject(new Error(`Training worker ${index + 1} stopped while starting (exit code ${code}).`))
        })
      })
    })
    try {
      const devices = await Promise.all(started)
      pool.device = devices[0]
    } catch (err) {
      await pool.close()
      throw err
    }
    return pool
  }

  private answer(index: number, m: FromPoolWorker): void {
    if (!('id' in m)) return
    const waiting = this.pending[index].get(m.id)
    if (!waiting) return
    this.pending[index].delete(m.id)
    // A worker that stopped because another failed says so; the one that failed says why (see fail()).
    if (m.error !== undefined) waiting.reject(m.aborted ? (this.failure ?? new TrainingWorkerError(m.error)) : this.failed(index, m.error))
    else waiting.resolve(m.value)
  }

  private failed(index: number, message: string): TrainingWorkerError {
    this.failure ??= new TrainingWorkerError(
      `Training worker ${index + 1} of ${this.workers} ${message.startsWith('stopped') || message.startsWith('failed') ? message : `failed: ${message}`}`
    )
    return this.failure
  }

  /** A worker died: the others stop waiting at their barriers, and every call in flight fails with its reason. */
  private fail(index: number, message: string): void {
    const err = this.failed(index, message)
    const ctl = new Int32Array(this.control)
    Atomics.store(ctl, CONTROL.abort, 1)
    Atomics.notify(ctl, CONTROL.generation)
    for (const map of this.pending) {
      for (const p of map.values()) p.reject(err)
      map.clear()
    }
  }

  private send(index: number, message: Unsent, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new Error('The training workers were closed.'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending[index].set(id, { resolve, reject })
      this.threads[index].postMessage({ ...message, id }, transfer)
    })
  }

  private async everyWorker<C extends EngineCall>(call: C, ...args: EngineCalls[C]['args']): Promise<EngineCalls[C]['result']> {
    const answers = await Promise.all(this.threads.map((_, k) => this.send(k, { type: 'call', call, args } as Unsent)))
    return answers[0] as EngineCalls[C]['result']
  }

  private firstWorker<C extends EngineCall>(call: C, ...args: EngineCalls[C]['args']): Promise<EngineCalls[C]['result']> {
    return this.send(0, { type: 'call', call, args } as Unsent) as Promise<EngineCalls[C]['result']>
  }

  async build(setup: EngineSetup): Promise<{ topology: unknown; inputSize: number }> {
    const built = (await this.everyWorker('build', setup)) as { topology: unknown; inputSize: number; parameters: number; outputValuesPerImage: number }
    // Statistics over the batch would differ over each worker's share: such a network trains on one worker.
    if (JSON.stringify(built.topology).includes('"class_name":"BatchNormalization"'))
      throw new Error('This network normalises over the batch (BatchNormalization), which splitting a batch over workers would change: train it with 1 worker.')
    this.inputSize = built.inputSize
    this.outputValuesPerImage = built.outputValuesPerImage
    const slots = new SharedArrayBuffer(this.workers * built.parameters * 4)
    const sum = new SharedArrayBuffer(built.parameters * 4)
    await Promise.all(this.threads.map((_, k) => this.send(k, { type: 'gradientBuffers', slots, sum })))
    return { topology: built.topology, inputSize: built.inputSize }
  }

  private async shard(
    mode: 'evaluate' | 'train' | 'gradients',
    xData: Float32Array,
    yData: Float32Array,
    n: number
  ): Promise<{ result: StepResult; gradients?: Float32Array }> {
    const inputValuesPerImage = this.inputSize * this.inputSize * 3
    if (xData.length !== n * inputValuesPerImage)
      throw new Error(`Expected ${n} images of ${this.inputSize}×${this.inputSize}×3 (${n * inputValuesPerImage} values), got ${xData.length} values.`)
    const shared = (data: Float32Array) => {
      const buffer = new SharedArrayBuffer(data.byteLength)
      new Float32Array(buffer).set(data)
      return buffer
    }
    const x = shared(xData)
    const y = shared(yData)
    const outputs = new SharedArrayBuffer(n * this.outputValuesPerImage * 4)
    let offset = 0
    const answers = await Promise.all(
      shareSizes(n, this.workers).map((size, k) => {
        const message = { type: 'shard' as const, mode, x, y, outputs, inputValuesPerImage, offset, n: size, total: n }
        offset += size
        return this.send(k, message)
      })
    )
    return answers[0] as { result: StepResult; gradients?: Float32Array }
  }

  async trainStep(x: Float32Array, y: Float32Array, n: number): Promise<StepResult> {
    return (await this.shard('train', x, y, n)).result
  }

  async evaluateBatch(x: Float32Array, y: Float32Array, n: number): Promise<StepResult> {
    return (await this.shard('evaluate', x, y, n)).result
  }

  async gradients(x: Float32Array, y: Float32Array, n: number): Promise<WeightSet> {
    const { gradients } = await this.shard('gradients', x, y, n)
    const weights = await this.getWeights()
    // The trainable variables in the layers' order: the weights' specs less the non-trainable ones (the U-Net has none).
    return { specs: weights.specs, data: gradients! }
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const perImage = this.inputSize * this.inputSize * 3
    let offset = 0
    const parts = await Promise.all(
      shareSizes(n, this.workers).map((size, k) => {
        const part = x.slice(offset * perImage, (offset + size) * perImage)
        offset += size
        return size === 0 ? new Float32Array(0) : (this.send(k, { type: 'call', call: 'predict', args: [part, size] }, [part.buffer]) as Promise<Float32Array>)
      })
    )
    const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0))
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  getWeights(): Promise<WeightSet> {
    return this.firstWorker('getWeights')
  }

  getOptimizerState(): Promise<WeightSet | null> {
    return this.firstWorker('getOptimizerState')
  }

  async setOptimizerState(state: WeightSet): Promise<void> {
    await this.everyWorker('setOptimizerState', state)
  }

  /** Tensors and bytes of every worker together. */
  async memory(): Promise<{ bytes: number; tensors: number }> {
    const each = await this.workerMemory()
    return { bytes: each.reduce((s, m) => s + m.bytes, 0), tensors: each.reduce((s, m) => s + m.tensors, 0) }
  }

  /** Tensors and bytes of each worker. */
  workerMemory(): Promise<Array<{ bytes: number; tensors: number }>> {
    return Promise.all(this.threads.map((_, k) => this.send(k, { type: 'call', call: 'memory', args: [] }) as Promise<{ bytes: number; tensors: number }>))
  }

  async dispose(): Promise<void> {
    if (!this.failure && !this.closed) await this.everyWorker('dispose')
  }

  /** Stop every worker thread (a run's end, cancel, or a failure). */
  async close(): Promise<void> {
    this.closed = true
    for (const map of this.pending) {
      for (const p of map.values()) p.reject(new Error('The training workers were closed.'))
      map.clear()
    }
    await Promise.all(this.threads.map((t) => t.terminate()))
  }
}
