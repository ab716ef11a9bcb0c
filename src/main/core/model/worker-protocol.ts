// Messages between the data-parallel engine (worker-pool.ts) and its worker threads (engine-worker.ts).
import type { EngineCall, EngineCalls } from '../../../shared/gpu-worker'

/** The words of the shared control array. */
export const CONTROL = { arrived: 0, generation: 1, abort: 2, length: 3 } as const

export interface PoolWorkerData {
  index: number
  workers: number
  wasmDir: string
  /** SharedArrayBuffer of CONTROL.length Int32 words. */
  control: SharedArrayBuffer
}

export type ToPoolWorker =
  | { [C in EngineCall]: { type: 'call'; id: number; call: C; args: EngineCalls[C]['args'] } }[EngineCall]
  /** Where the workers add up their gradients: one slot per worker, and the sum. */
  | { type: 'gradientBuffers'; id: number; slots: SharedArrayBuffer; sum: SharedArrayBuffer }
  | {
      type: 'shard'
      id: number
      mode: 'evaluate' | 'train' | 'gradients'
      /** The whole batch's images, targets and (to be filled) outputs, shared by every worker. */
      x: SharedArrayBuffer
      y: SharedArrayBuffer
      outputs: SharedArrayBuffer
      inputValuesPerImage: number
      /** This worker's images: offset..offset+n-1 of total. */
      offset: number
      n: number
      total: number
    }

export type FromPoolWorker =
  { ready: true; device: string } | { ready: false; error: string } | { id: number; value?: unknown; error?: string; aborted?: boolean }
