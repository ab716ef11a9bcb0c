// Which engine predicts: the one choice, kept here. onnxruntime where it is installed (faster than tfjs on the
// CPU, and on CUDA with its provider), tfjs where it is not; LEAFSEG_ENGINE=tfjs|onnxruntime forces one.
import { initBackend } from './backend'
import { loadModelFiles, loadModelMeta } from './model-io'
import { loadModel } from './predict'
import type { tf } from './backend'
import { onnxInferenceModel, onnxRuntime, type InferenceModel } from './onnx-engine'

export type EngineName = 'onnxruntime' | 'tfjs'

/** The engine to use, and why not onnxruntime when it is tfjs. */
export function chooseEngine(): { name: EngineName; reason?: string } {
  const forced = process.env.LEAFSEG_ENGINE
  if (forced === 'tfjs') return { name: 'tfjs', reason: 'LEAFSEG_ENGINE=tfjs' }
  const runtime = onnxRuntime()
  if (runtime.ort) return { name: 'onnxruntime' }
  if (forced === 'onnxruntime') throw new Error(`LEAFSEG_ENGINE=onnxruntime, but ${runtime.reason}`)
  return { name: 'tfjs', reason: runtime.reason }
}

/** Load the model in modelDir (model.json + weights.bin) on the chosen engine (or the one asked for). */
export async function loadInferenceModel(modelDir: string, engine: EngineName = chooseEngine().name): Promise<InferenceModel> {
  const backend = await initBackend()
  if (engine === 'tfjs') {
    const model = await loadModel(modelDir)
    return { ...model, engine: `tfjs (${backend.device})` }
  }
  const { ort } = onnxRuntime()
  if (!ort) throw new Error('onnxruntime-node is not installed')
  const layers = await loadModelFiles(modelDir)
  const inputSize = squareInputSize(layers, modelDir)
  // The ONNX graph is built from the layers' weights, then tfjs's copy is freed: only onnxruntime holds the model.
  const { unetToOnnx } = await import('./onnx-export')
  let bytes: Uint8Array
  try {
    bytes = unetToOnnx(layers)
  } finally {
    layers.dispose()
  }
  return onnxInferenceModel(ort, bytes, inputSize, await loadModelMeta(modelDir))
}

/** The side of the square RGB tiles a model takes; it is disposed and refused when its input is not that. */
function squareInputSize(model: tf.LayersModel, modelDir: string): number {
  const shape = model.inputs[0].shape
  const inputSize = shape[1]
  if (inputSize == null || shape[2] !== inputSize || shape[3] !== 3) {
    model.dispose()
    throw new Error(`The model in ${modelDir} does not take square RGB images (its input is ${JSON.stringify(shape)}).`)
  }
  return inputSize
}
