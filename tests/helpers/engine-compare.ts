// What the GPU engine tests (WebGL2 in Chromium, WebGPU through Dawn) compare against the CPU backends with: the
// same batches, the same small run, and the error measures.
import type { OpenEngine } from '../../src/main/core/model/engine-choice'
import type { WeightSet } from '../../src/main/core/model/engine'
import type { TrainOptions } from '../../src/main/core/training/train'
import { streamBatches, type Batch, type Sample } from '../../src/main/core/training/data'

/** The small U-Net every engine test trains. */
export const smallNetwork = { inputSize: 32, baseFilters: 4, depth: 2 }

/** `count` augmented training batches of `size`, as the training loop streams them (epoch after epoch). */
export async function trainingBatches(photos: Sample[], count: number, size: number): Promise<Batch[]> {
  const out: Batch[] = []
  for (let epoch = 1; out.length < count; epoch++)
    for await (const b of streamBatches(photos, { batchSize: size, size: 32, augment: { flips: true, rotate90: true }, seed: 5, epoch }))
      if (out.length < count) out.push(b)
  return out
}

/** A two-epoch run of the small network on photos 0–7, validated on the rest. */
export function smallRun(photos: Sample[], runDir: string, engine: OpenEngine, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    runDir,
    train: photos.slice(0, 8),
    validation: photos.slice(8),
    model: smallNetwork,
    batchSize: 2,
    epochs: 2,
    learningRate: 3e-3,
    loss: 'bce+dice',
    augment: { flips: true },
    seed: 3,
    engine,
    ...extra
  }
}

/** ||a - b|| / ||b|| for one variable's values. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2
    norm += b[i] ** 2
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12)
}

/** A weight set's values by variable name. */
export function byVariable(set: WeightSet): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  let offset = 0
  for (const s of set.specs) {
    const size = s.shape.reduce((a, b) => a * b, 1)
    out.set(s.name, set.data.subarray(offset, offset + size))
    offset += size
  }
  return out
}
