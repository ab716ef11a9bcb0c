// The data-parallel wasm engine: real worker threads, each with its own tfjs wasm, on a tiny U-Net.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { defaultWasmDir, initBackend, tf } from '../../src/main/core/model/backend'
import { TfjsEngine, type TrainingEngine } from '../../src/main/core/model/engine'
import { runningTrainingWorkers, shareSizes, WorkerPoolEngine } from '../../src/main/core/model/worker-pool'
import type { EngineSetup } from '../../src/shared/gpu-worker'
import { seededRandom } from '../../src/shared/random'

const s = 32
function batch(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const random = seededRandom(seed)
  // Leaf-like targets: a disc per image, so that Dice has something to pool.
  const y = new Float32Array(n * s * s).map((_, i) => (Math.hypot((i % s) - 16, (Math.floor(i / s) % s) - 14) < 9 ? 1 : 0))
  const x = new Float32Array(n * s * s * 3).map((_, i) => 0.6 * y[Math.floor(i / 3)] + 0.4 * random())
  return { x, y }
}
// bce+dice: the Dice term is pooled over the whole batch, so a split batch must still see the whole batch's sums.
const setup: EngineSetup = { network: { kind: 'unet', size: { inputSize: s, baseFilters: 4, depth: 2 }, seed: 5 }, loss: 'bce+dice', learningRate: 1e-2 }

async function threeSteps(engine: TrainingEngine, n: number): Promise<{ weights: Float32Array; losses: number[] }> {
  await engine.build(setup)
  const losses: number[] = []
  for (let step = 0; step < 3; step++) {
    const { x, y } = batch(n, step + 1)
    losses.push((await engine.trainStep(x, y, n)).loss)
  }
  return { weights: (await engine.getWeights()).data, losses }
}

function worstDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]))
  return worst
}

before(async () => {
  await initBackend({ force: 'wasm' })
})

test('shares split a batch as evenly as can be, in order', () => {
  assert.deepEqual(shareSizes(8, 3), [3, 3, 2])
  assert.deepEqual(shareSizes(2, 3), [1, 1, 0])
})

test('1 worker and 2 workers from the same seed give the same weights after 3 steps (to summation order), and the same run twice gives the same weights', async () => {
  const one = await threeSteps(new TfjsEngine(), 6)
  const pool = await WorkerPoolEngine.start(2, defaultWasmDir())
  try {
    const two = await threeSteps(pool, 6)
    const again = await threeSteps(pool, 6)
    assert.ok(worstDifference(one.weights, two.weights) < 1e-5, `worst weight difference ${worstDifference(one.weights, two.weights)}`)
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(one.losses[i] - two.losses[i]) < 1e-5, `step ${i + 1}: loss ${one.losses[i]} vs ${two.losses[i]}`)
    assert.deepEqual(again.weights, two.weights, 'a given seed and N give the same weights every time')
    // The steps moved the weights: the comparison is not between two untouched networks.
    const start = new TfjsEngine()
    await start.build(setup)
    assert.ok(worstDifference((await start.getWeights()).data, two.weights) > 1e-3)
    await start.dispose()
  } finally {
    await pool.close()
  }
})

test('3 workers on uneven shares (and a share with no image) train, evaluate and predict as one engine does', async () => {
  const one = new TfjsEngine()
  const pool = await WorkerPoolEngine.start(3, defaultWasmDir())
  try {
    for (const n of [5, 2]) {
      const a = await threeSteps(one, n)
      const b = await threeSteps(pool, n)
      assert.ok(worstDifference(a.weights, b.weights) < 1e-5, `batch ${n}: worst weight difference ${worstDifference(a.weights, b.weights)}`)
      const { x, y } = batch(n, 9)
      const [ea, eb] = [await one.evaluateBatch(x, y, n), await pool.evaluateBatch(x, y, n)]
      assert.ok(Math.abs(ea.loss - eb.loss) < 1e-5)
      assert.deepEqual(eb.counts, ea.counts)
      assert.ok(worstDifference(await one.predict(x, n), await pool.predict(x, n)) < 1e-5)
      const [ga, gb] = [await one.gradients(x, y, n), await pool.gradients(x, y, n)]
      assert.deepEqual(gb.specs, ga.specs)
      assert.ok(worstDifference(ga.data, gb.data) < 1e-5)
    }
  } finally {
    await one.dispose()
    await pool.close()
  }
  assert.equal(runningTrainingWorkers(), 0, 'closing the pool ends its threads')
})

test('a network with batch statistics is refused by the workers, with the reason', async () => {
  const input = tf.input({ shape: [8, 8, 3] })
  const normalised = tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input))
  const model = tf.model({ inputs: input, outputs: normalised as tf.SymbolicTensor })
  const topology = model.toJSON(null, false)
  model.dispose()
  const pool = await WorkerPoolEngine.start(2, defaultWasmDir())
  try {
    await assert.rejects(
      pool.build({ network: { kind: 'topology', topology }, loss: 'bce', learningRate: 1e-3 }),
      /normalises over the batch \(BatchNormalization\).*train it with 1 worker/
    )
  } finally {
    await pool.close()
  }
})
