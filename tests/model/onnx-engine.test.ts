// onnxruntime as the prediction engine: the same probabilities as tfjs, tile by tile and over a whole photo.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { saveModelFiles } from '../../src/main/core/model/model-io'
import { chooseEngine, loadInferenceModel } from '../../src/main/core/model/inference'
import { fullResolution, predictPhoto } from '../../src/main/core/model/tiling'
import { tempDir } from '../helpers/temp'

const engineBefore = process.env.LEAFSEG_ENGINE
after(() => {
  if (engineBefore === undefined) delete process.env.LEAFSEG_ENGINE
  else process.env.LEAFSEG_ENGINE = engineBefore
})

async function savedModel(): Promise<string> {
  await initBackend({ force: 'wasm' })
  const model = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 6)
  model.layers.forEach((layer, i) => {
    const w = layer.getWeights()
    if (w.length === 2) layer.setWeights([w[0], tf.randomUniform(w[1].shape, -0.2, 0.2, 'float32', i)])
  })
  const dir = join(tempDir(), 'model')
  mkdirSync(dir)
  await saveModelFiles(model, dir, {
    inputSize: 32,
    baseFilters: 4,
    depth: 2,
    sampling: { mode: 'crops', scale: 1 },
    loss: 'bce',
    epoch: 1,
    validationIoU: 0.5
  })
  model.dispose()
  return dir
}

const worstDifference = (a: Float32Array, b: Float32Array) => a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0)

test('onnxruntime is chosen where installed; LEAFSEG_ENGINE=tfjs chooses tfjs and says why', () => {
  delete process.env.LEAFSEG_ENGINE
  assert.deepEqual(chooseEngine(), { name: 'onnxruntime' })
  process.env.LEAFSEG_ENGINE = 'tfjs'
  assert.deepEqual(chooseEngine(), { name: 'tfjs', reason: 'LEAFSEG_ENGINE=tfjs' })
  delete process.env.LEAFSEG_ENGINE
})

test('a saved model predicts the same on onnxruntime as on tfjs, tile by tile and over a whole photo', async () => {
  const dir = await savedModel()
  const onnx = await loadInferenceModel(dir, 'onnxruntime')
  const tfjs = await loadInferenceModel(dir, 'tfjs')
  assert.match(onnx.engine, /^onnxruntime \(CPU, \d+ threads?\)$/)
  assert.match(tfjs.engine, /^tfjs \(.*wasm.*\)$/)
  assert.equal(onnx.inputSize, 32)
  assert.deepEqual(onnx.meta?.sampling, { mode: 'crops', scale: 1 })

  const tiles = new Float32Array(5 * 32 * 32 * 3).map((_, i) => ((i * 104729) % 256) / 255)
  const a = await onnx.predictBatch(tiles, 5)
  const b = await tfjs.predictBatch(tiles, 5)
  assert.equal(a.length, 5 * 32 * 32)
  assert.ok(worstDifference(a, b) <= 1e-4, `largest difference ${worstDifference(a, b)}`)
  await assert.rejects(async () => onnx.predictBatch(tiles, 4), /expected 12288 floats for 4 tiles of 32²/)

  // A 90×70 photo: several batches of overlapping tiles (the next batch is cut while one predicts), blended.
  const photo = { width: 90, height: 70, channels: 3 as const, data: new Uint8Array(90 * 70 * 3).map((_, i) => (i * 7) % 251) }
  const viaOnnx = fullResolution(onnx)
  const viaTfjs = fullResolution(tfjs)
  const progress: number[] = []
  const mapA = await predictPhoto(viaOnnx.predictor, photo, { ...viaOnnx.options, batchSize: 3, onProgress: (done) => progress.push(done) })
  const mapB = await predictPhoto(viaTfjs.predictor, photo, { ...viaTfjs.options, batchSize: 3 })
  assert.deepEqual([mapA.width, mapA.height], [90, 70])
  assert.ok(progress.length > 3 && progress.at(-1)! > 6, `batches: ${progress.join(',')}`)
  assert.ok(worstDifference(mapA.data, mapB.data) <= 1e-4, `largest difference ${worstDifference(mapA.data, mapB.data)}`)
  onnx.dispose()
  tfjs.dispose()
})
