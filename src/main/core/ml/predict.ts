// Prediction with a saved model: probability maps at the network's input size.
import { initBackend, tf } from './backend'
import { loadModelFiles, loadModelMeta, type ModelMeta } from './model-io'

export interface Predictor {
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
  dispose(): void
}

/** Load the model in modelDir (model.json + weights.bin) on the current backend (started if needed). */
export async function createPredictor(modelDir: string): Promise<Predictor> {
  await initBackend()
  const model = await loadModelFiles(modelDir)
  const meta = await loadModelMeta(modelDir)
  const shape = model.inputs[0].shape
  const inputSize = shape[1]
  if (inputSize == null || shape[2] !== inputSize || shape[3] !== 3) {
    model.dispose()
    throw new Error(`The model in ${modelDir} does not take square RGB images (its input is ${JSON.stringify(shape)}).`)
  }
  return {
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
    dispose() {
      model.dispose()
    }
  }
}
