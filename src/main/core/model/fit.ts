// Whether a training configuration fits the backend before a run starts: the wasm heap, the machine's RAM
// for native TensorFlow and the cpu backend, and for the GPU worker the size of one texture (WebGL) or one
// buffer (WebGPU), since the WebGL/WebGPU backends hold each tensor in one.
import os from 'node:os'
import type { GpuWorkerHello } from '../../../shared/gpu-worker'
import { estimateTrainingBytes, largestTensorElements, type UnetConfig } from './unet-size'

/** Heap the wasm backend can address (4 GiB, less room for the runtime and fragmentation). */
export const WASM_HEAP_LIMIT_BYTES = 3.5 * 2 ** 30

export type FitBackend = 'tensorflow' | 'wasm' | 'cpu' | 'webgl' | 'webgpu'

/** What the GPU worker said about its limits (its hello). */
export type GpuLimits = Pick<GpuWorkerHello, 'maxTextureSize' | 'maxBufferBytes'>

export interface FitCheck {
  fits: boolean
  bytes: number
  limitBytes: number
  /** The largest batch that fits, 0 when not even one image does. */
  largestBatch: number
  message?: string
}

/** Values one tensor may hold on the GPU: a packed WebGL texture holds 2×2 values a texel, a WebGPU buffer 4 bytes a value. */
export function gpuTensorLimit(gpu: GpuLimits): number {
  if (gpu.maxBufferBytes) return Math.floor(gpu.maxBufferBytes / 4)
  return 4 * (gpu.maxTextureSize ?? 4096) ** 2
}

function largestBatchWhere(fits: (batch: number) => boolean): number {
  let batch = 0
  while (batch < 1024 && fits(batch + 1)) batch++
  return batch
}

/**
 * Whether training fits the backend's memory; on the GPU worker, whether each tensor fits one texture or buffer.
 * With `workers` wasm workers (worker-pool.ts), each holds a copy of the network and the activations of its share
 * of the batch in its own wasm heap, and all of them together must fit the machine's memory.
 */
export function checkTrainingFits(config: UnetConfig, batchSize: number, backend: FitBackend, gpu?: GpuLimits, workers = 1): FitCheck {
  const bytes = estimateTrainingBytes(config, batchSize)
  const network = `a ${config.inputSize} px U-Net with ${config.baseFilters} base filters and depth ${config.depth}`
  const gib = (b: number) => (b / 2 ** 30).toFixed(1)
  const advice = (largest: number) =>
    largest > 0 ? `A batch size of ${largest} or less would fit.` : 'Not even one image fits: choose a smaller input size or fewer base filters.'
  if ((backend === 'webgl' || backend === 'webgpu') && gpu) {
    // GPU memory itself is not reported by browsers; the per-tensor limit is, and it is what fails first.
    const limit = gpuTensorLimit(gpu)
    const largest = largestTensorElements(config, batchSize)
    const largestBatch = largestBatchWhere((b) => largestTensorElements(config, b) <= limit)
    const fits = largest <= limit
    const what = gpu.maxBufferBytes ? `one GPU buffer (at most ${gib(gpu.maxBufferBytes)} GiB)` : `one GPU texture (at most ${gpu.maxTextureSize} px a side)`
    return {
      fits,
      bytes: largest * 4,
      limitBytes: limit * 4,
      largestBatch,
      message: fits
        ? undefined
        : `Training ${network} at batch size ${batchSize} needs a tensor of ${largest.toLocaleString('en-US')} values, more than ${what} holds. ${advice(largestBatch)}`
    }
  }
  if (backend === 'wasm' && workers > 1) {
    const perWorker = (batch: number) => estimateTrainingBytes(config, Math.ceil(batch / workers))
    const fitsBatch = (batch: number) => perWorker(batch) <= WASM_HEAP_LIMIT_BYTES && workers * perWorker(batch) <= os.totalmem() * 0.7
    const largestBatch = largestBatchWhere(fitsBatch)
    const fits = fitsBatch(batchSize)
    const total = workers * perWorker(batchSize)
    const limitBytes = Math.min(workers * WASM_HEAP_LIMIT_BYTES, os.totalmem() * 0.7)
    const why =
      perWorker(batchSize) > WASM_HEAP_LIMIT_BYTES
        ? `each of the ${workers} workers needs about ${gib(perWorker(batchSize))} GiB, more than the ${gib(WASM_HEAP_LIMIT_BYTES)} GiB a wasm worker can use. ${advice(largestBatch)} More workers would each take a smaller share.`
        : `its ${workers} workers need about ${gib(total)} GiB together, more than the ${gib(os.totalmem() * 0.7)} GiB of this machine's memory training may use. ${advice(largestBatch)} Fewer workers need less together.`
    const message = fits ? undefined : `Training ${network} at batch size ${batchSize}: ${why}`
    return { fits, bytes: total, limitBytes, largestBatch, message }
  }
  const limitBytes = backend === 'wasm' ? WASM_HEAP_LIMIT_BYTES : os.totalmem() * 0.7
  const largestBatch = largestBatchWhere((b) => estimateTrainingBytes(config, b) <= limitBytes)
  const fits = bytes <= limitBytes
  const message = fits
    ? undefined
    : `Training ${network} at batch size ${batchSize} needs about ${gib(bytes)} GiB, more than the ${gib(limitBytes)} GiB the ${backend} backend can use. ${advice(largestBatch)}`
  return { fits, bytes, limitBytes, largestBatch, message }
}
