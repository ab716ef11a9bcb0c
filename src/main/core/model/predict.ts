// Prediction with a saved model: probability maps at the network's input size, computed by the best engine
// (the GPU worker when it is the best backend, else tfjs in this process; see engine-choice).
import type { Raster } from '../imaging/raster'
import { openEngine, type BackendChoice, type EngineInfo } from './engine-choice'
import { loadModelMeta, readCheckpoint, type ModelMeta } from './model-io'
import { defaultWorkers } from './worker-pool'

/** Tiles or photos a prediction hands the engine at once (tiling.ts's batch), spread over the wasm workers. */
const PREDICTION_BATCH = 8

/** A saved model loaded on an engine. */
export interface LoadedModel {
  /** Side of the square tiles the network takes. */
  inputSize: number
  /**
   * How the model was trained (null for a model saved without leafseg.json). With sampling 'crops', resize
   * the photo by meta.sampling.scale before tiling; with 'whole', the model saw whole photos at inputSize².
   */
  meta: ModelMeta | null
  /** Where it computes. */
  backend: EngineInfo
  /**
   * Leaf probabilities for n tiles. rgbTiles: n*inputSize*inputSize*3 floats in 0..1 (RGB, row-major);
   * returns n*inputSize*inputSize floats in 0..1.
   */
  predictBatch(rgbTiles: Float32Array, n: number): Promise<Float32Array>
  /** Leaf probabilities (inputSize² floats each) for 8-bit RGB or RGBA rasters of inputSize×inputSize. */
  predictRasters(rasters: Raster[]): Promise<Float32Array[]>
  dispose(): void
}

/**
 * Load the model in modelDir (model.json + weights.bin) on the engine `backend` picks (default: the best). On
 * wasm, each batch of tiles is spread over worker threads (the cores less one, which reads the photos).
 */
export async function loadModel(modelDir: string, backend: BackendChoice = 'auto'): Promise<LoadedModel> {
  const checkpoint = await readCheckpoint(modelDir)
  const meta = await loadModelMeta(modelDir)
  const opened = await openEngine(backend, { workers: defaultWorkers(PREDICTION_BATCH) })
  let inputSize: number
  try {
    ;({ inputSize } = await opened.engine.build({
      network: { kind: 'topology', topology: checkpoint.topology },
      weights: checkpoint.weights,
      loss: 'bce',
      learningRate: 0
    }))
  } catch (err) {
    await opened.close()
    throw new Error(`Cannot load the model in ${modelDir}: ${(err as Error).message}`)
  }
  const predictor: LoadedModel = {
    inputSize,
    meta,
    backend: opened.info,
    async predictBatch(rgbTiles, n) {
      const expected = n * inputSize * inputSize * 3
      if (rgbTiles.length !== expected) throw new Error(`predictBatch expected ${expected} floats for ${n} tiles of ${inputSize}², got ${rgbTiles.length}`)
      return opened.engine.predict(rgbTiles, n)
    },
    async predictRasters(rasters) {
      const pixels = inputSize * inputSize
      const input = new Float32Array(rasters.length * pixels * 3)
      rasters.forEach((r, k) => {
        if (r.width !== inputSize || r.height !== inputSize || r.channels === 1)
          throw new Error(
            `predictRasters needs RGB images of ${inputSize}×${inputSize}; image ${k + 1} is ${r.width}×${r.height} with ${r.channels} channel(s)`
          )
        for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) input[(k * pixels + i) * 3 + c] = r.data[i * r.channels + c] / 255
      })
      const out = await predictor.predictBatch(input, rasters.length)
      // A network that separates leaves interleaves the touching band with the leaf: keep the leaf.
      const channels = meta?.instances ? 2 : 1
      return rasters.map((_, k) => Float32Array.from({ length: pixels }, (_, i) => out[(k * pixels + i) * channels]))
    },
    dispose() {
      void opened.close()
    }
  }
  return predictor
}
