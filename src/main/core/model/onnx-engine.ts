// Inference on onnxruntime-node (an optional dependency, loaded only when used): the run's layers model is turned
// into ONNX in memory (onnx-export.ts) and run by onnxruntime on all cores, or on CUDA when its provider is installed.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import type * as Ort from 'onnxruntime-node'
import type { ModelMeta } from './model-io'

const require = createRequire(import.meta.url)

/** A model ready to predict tiles, whatever runs it (tfjs's LoadedModel has the same shape). */
export interface InferenceModel {
  inputSize: number
  meta: ModelMeta | null
  /** What predicts, in words: 'onnxruntime (CPU, 16 threads)', 'tfjs (CPU (wasm, 4 workers))'. */
  engine: string
  /** rgbTiles: n × inputSize² × 3 floats in 0..1 (RGB, row-major) -> n × inputSize² leaf probabilities. */
  predictBatch(rgbTiles: Float32Array, n: number): Float32Array | Promise<Float32Array>
  dispose(): void
}

/** onnxruntime-node, or why it cannot be used here. */
export function onnxRuntime(): { ort: typeof Ort; reason?: undefined } | { ort?: undefined; reason: string } {
  try {
    return { ort: require('onnxruntime-node') as typeof Ort }
  } catch (err) {
    return { reason: `onnxruntime-node is not installed or did not load (${(err as Error).message.split('\n')[0]})` }
  }
}

/** Whether the CUDA provider's library was installed (`npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`). */
function cudaProviderInstalled(): boolean {
  const binaries = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch)
  return existsSync(join(binaries, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'))
}

/** Threads for onnxruntime's operators: LEAFSEG_ONNX_THREADS, else every core. */
export function onnxThreads(): number {
  const fromEnv = Number(process.env.LEAFSEG_ONNX_THREADS)
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : availableParallelism()
}

/** A session for ONNX bytes: CUDA when its provider is installed and starts, else the CPU with every core. */
export async function onnxSession(ort: typeof Ort, bytes: Uint8Array): Promise<{ session: Ort.InferenceSession; engine: string }> {
  const intraOpNumThreads = onnxThreads()
  const options = { intraOpNumThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const }
  let cudaProblem = ''
  if (cudaProviderInstalled()) {
    try {
      return { session: await ort.InferenceSession.create(bytes, { ...options, executionProviders: ['cuda', 'cpu'] }), engine: 'onnxruntime (CUDA)' }
    } catch (err) {
      cudaProblem = ` — the CUDA provider did not start: ${(err as Error).message.split('\n')[0]}`
    }
  }
  const session = await ort.InferenceSession.create(bytes, { ...options, executionProviders: ['cpu'] })
  return { session, engine: `onnxruntime (CPU, ${intraOpNumThreads} thread${intraOpNumThreads === 1 ? '' : 's'})${cudaProblem}` }
}

/** An ONNX session as an InferenceModel taking square tiles of inputSize (input 'image' NHWC, output 'mask'). */
export async function onnxInferenceModel(ort: typeof Ort, bytes: Uint8Array, inputSize: number, meta: ModelMeta | null): Promise<InferenceModel> {
  const { session, engine } = await onnxSession(ort, bytes)
  return {
    inputSize,
    meta,
    engine,
    async predictBatch(rgbTiles, n) {
      const expected = n * inputSize * inputSize * 3
      if (rgbTiles.length !== expected) throw new Error(`predictBatch expected ${expected} floats for ${n} tiles of ${inputSize}², got ${rgbTiles.length}`)
      if (n === 0) return new Float32Array(0)
      const { mask } = await session.run({ image: new ort.Tensor('float32', rgbTiles, [n, inputSize, inputSize, 3]) })
      try {
        return new Float32Array(mask.data as Float32Array)
      } finally {
        mask.dispose()
      }
    },
    dispose() {
      void session.release()
    }
  }
}
