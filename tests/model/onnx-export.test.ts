// The ONNX file Leafseg writes from a U-Net's layers gives what tfjs gives, run by onnxruntime on the same inputs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ort from 'onnxruntime-node'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { UNET_PRESETS, type UnetConfig } from '../../src/main/core/model/unet-size'
import { unetToOnnx, unetToOnnxGraph } from '../../src/main/core/model/onnx-export'

/** A U-Net whose biases are not zero (fresh ones are), so a mistake in exporting them would show. */
function unetWithBiases(config: UnetConfig, seed: number): tf.LayersModel {
  const model = buildUnet(config, seed)
  model.layers.forEach((layer, i) => {
    const weights = layer.getWeights()
    if (weights.length === 2) layer.setWeights([weights[0], tf.randomUniform(weights[1].shape, -0.2, 0.2, 'float32', seed + i)])
  })
  return model
}

/** onnxruntime on the model's ONNX file against tfjs on `reference` (the model itself unless given). */
async function largestDifference(
  model: tf.LayersModel,
  shape: [number, number, number, number],
  reference = model
): Promise<{ worst: number; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(unetToOnnx(model))
  const input = tf.randomUniform(shape, 0, 1, 'float32', 11)
  const expected = tf.tidy(() => (reference.predict(input) as tf.Tensor).dataSync())
  const output = (await session.run({ image: new ort.Tensor('float32', input.dataSync() as Float32Array, shape) })).mask
  input.dispose()
  await session.release()
  const got = output.data as Float32Array
  assert.equal(got.length, expected.length)
  let worst = 0
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]))
  return { worst, dims: output.dims }
}

test('the Fast CPU U-Net exported to ONNX predicts what tfjs predicts (max difference ≤ 1e-4)', async () => {
  await initBackend({ force: 'wasm' })
  const model = unetWithBiases(UNET_PRESETS['fast-cpu'], 4)
  const { worst, dims } = await largestDifference(model, [2, 128, 128, 3])
  assert.deepEqual(dims, [2, 128, 128, 1])
  assert.ok(worst <= 1e-4, `largest difference ${worst}`)
  // The graph holds only the operators ONNX users expect of a U-Net, and every layer's weights.
  const graph = unetToOnnxGraph(model)
  assert.deepEqual([...new Set(graph.nodes.map((n) => n.op))].sort(), ['Concat', 'Conv', 'ConvTranspose', 'MaxPool', 'Relu', 'Sigmoid', 'Transpose'])
  const parameters = graph.initializers.reduce((sum, t) => sum + t.data.length, 0)
  assert.equal(parameters, model.countParams())
  model.dispose()
})

test('the exported network takes any height and width its depth allows, not only the training tile', async () => {
  await initBackend({ force: 'wasm' })
  const model = unetWithBiases({ inputSize: 32, baseFilters: 4, depth: 3 }, 9)
  // tfjs's model has a fixed input; a second one with free sides shares its layers to compare against.
  const input = tf.input({ shape: [null, null, 3] })
  const anySize = tf.model({ inputs: input, outputs: model.apply(input) as tf.SymbolicTensor })
  const { worst, dims } = await largestDifference(model, [1, 48, 80, 3], anySize)
  assert.deepEqual(dims, [1, 48, 80, 1])
  assert.ok(worst <= 1e-4, `largest difference ${worst}`)
  model.dispose()
})

test('a layer the exporter does not know is refused by name', async () => {
  await initBackend({ force: 'wasm' })
  const input = tf.input({ shape: [8, 8, 3] })
  const output = tf.layers.batchNormalization({ name: 'norm' }).apply(input) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: output })
  assert.throws(() => unetToOnnx(model), /Cannot export layer norm \(BatchNormalization\) to ONNX/)
  model.dispose()
})
