// Prediction with a saved model: probability maps at the network's input size.
import { initBackend, tf } from './backend'
import type { Raster } from '../imaging/raster'
import { loadModelFiles, loadModelMeta, type ModelMeta } from './model-io'

/** A saved model loaded on the current backend. */
export interface LoadedModel {
  /** Side of the square tiles the network takes. */
  inputSize: number
  /**
   * How the model was trained (null for a model saved without leafseg.json). With sampling 'crops', resize
   * the photo by meta.sampling.scale before tiling; with 'whole', the model saw whole photos at inputSize².
   */
  meta: ModelMeta | null
  /**
   * Leaf probabilities for n tiles. rgbTiles: n*inputSize*inputSize*3 floats in 0..1 (RGB, row-major);
   * returns n*inputSize*inputSize floats in 0..1.
   */
  predictBatch(rgbTiles: Float32Array, n: number): Float32Array
  /** Leaf probabilities (inputSize² floats each) for 8-bit RGB or RGBA rasters of inputSize×inputSize. */
  predictRasters(rasters: Raster[]): Float32Array[]
  dispose(): void
}

/** The side of the square RGB tiles a model takes; it is disposed and refused when its input is not that. */
export function squareInputSize(model: tf.LayersModel, modelDir: string): number {
  const shape = model.inputs[0].shape
  const inputSize = shape[1]
  if (inputSize == null || shape[2] !== inputSize || shape[3] !== 3) {
    model.dispose()
    throw new Error(`The model in ${modelDir} does not take square RGB images (its input is ${JSON.stringify(shape)}).`)
  }
  return inputSize
}

/** Load the model in modelDir (model.json + weights.bin) on the current backend (started if needed). */
export async function loadModel(modelDir: string): Promise<LoadedModel> {
  await initBackend()
  const model = await loadModelFiles(modelDir)
  const meta = await loadModelMeta(modelDir)
  const inputSize = squareInputSize(model, modelDir)
  const predictor: LoadedModel = {
    inputSize,
    meta,
    predictBatch(rgbTiles, n) {
      const expected = n * inputSize * inputSize * 3
      if (rgbTiles.length !== expected) throw new Error(`predictBatch expected ${expected} floats for ${n} tiles of ${inputSize}², got ${rgbTiles.length}`)
      if (n === 0) return new Float32Array(0)
      const out = tf.tidy(() => model.predict(tf.tensor4d(rgbTiles, [n, inputSize, inputSize, 3])) as tf.Tensor)
      try {
        return out.dataSync() as Float32Array
      } finally {
        out.dispose()
      }
    },
    predictRasters(rasters) {
      const pixels = inputSize * inputSize
      const input = new Float32Array(rasters.length * pixels * 3)
      rasters.forEach((r, k) => {
        if (r.width !== inputSize || r.height !== inputSize || r.channels === 1)
          throw new Error(`predictRasters needs RGB images of ${inputSize}×${inputSize}; image ${k + 1} is ${r.width}×${r.height} with ${r.channels} channel(s)`)
        for (let i = 0; i < pixels; i++)
          for (let c = 0; c < 3; c++) input[(k * pixels + i) * 3 + c] = r.data[i * r.channels + c] / 255
      })
      const out = predictor.predictBatch(input, rasters.length)
      return rasters.map((_, k) => out.slice(k * pixels, (k + 1) * pixels))
    },
    dispose() {
      model.dispose()
    }
  }
  return predictor
}
