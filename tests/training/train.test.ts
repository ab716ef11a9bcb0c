import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tf } from '../../src/main/core/model/backend'
import { openEngine, type OpenEngine } from '../../src/main/core/model/engine-choice'
import { trainUnet, type EpochMetrics, type TrainOptions } from '../../src/main/core/training/train'
import { buildUnet } from '../../src/main/core/model/unet'
import { UNET_PRESETS } from '../../src/main/core/model/unet-size'
import { checkTrainingFits } from '../../src/main/core/model/fit'
import { loadModelFiles, saveModelFiles } from '../../src/main/core/model/model-io'
import { loadModel } from '../../src/main/core/model/predict'
import { loadExample, type Sample } from '../../src/main/core/training/data'
import { seededRandom } from '../../src/shared/random'
import { makePhotos } from './fixtures'

let root: string
let train: Sample[]
let validation: Sample[]
let engine: OpenEngine

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'leafseg-ml-'))
  const photos = await makePhotos(join(root, 'photos'), 30, { width: 48, height: 40, seed: 7 })
  train = photos.slice(0, 24)
  validation = photos.slice(24)
  engine = await openEngine('wasm')
})
after(async () => {
  await engine.close()
  await rm(root, { recursive: true, force: true })
})

const small = (runDir: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  runDir,
  train,
  validation,
  model: { inputSize: 32, baseFilters: 8, depth: 2 },
  batchSize: 4,
  epochs: 2,
  learningRate: 3e-3,
  loss: 'bce+dice',
  augment: { flips: true, rotate90: true },
  seed: 3,
  engine,
  ...extra
})

test('a small U-Net learns generated leaves to a validation IoU of at least 0.8', async () => {
  const result = await trainUnet(small(join(root, 'learn'), { epochs: 14 }))
  const last = result.history.at(-1)!
  assert.ok(result.bestIoU >= 0.8, `best validation IoU ${result.bestIoU.toFixed(3)} (last: ${JSON.stringify(last.validation)})`)
  assert.ok(last.train.loss < result.history[0].train.loss, 'training loss went down')
  assert.equal(result.history.length, 14)

  // The best checkpoint predicts the validation photos as well as training measured.
  const predictor = await loadModel(join(root, 'learn', 'best'))
  assert.equal(predictor.meta?.epoch, result.bestEpoch)
  assert.deepEqual(predictor.meta?.sampling, { mode: 'whole' })
  const examples = await Promise.all(validation.map((s) => loadExample(s, 32, null, seededRandom(1))))
  const x = new Float32Array(examples.length * 32 * 32 * 3)
  examples.forEach((e, i) => x.set(e.rgb, i * 32 * 32 * 3))
  const p = await predictor.predictBatch(x, examples.length)
  let tp = 0
  let union = 0
  examples.forEach((e, i) =>
    e.mask.forEach((m, j) => {
      const leaf = p[i * 32 * 32 + j] >= 0.5
      if (leaf && m === 1) tp++
      if (leaf || m === 1) union++
    })
  )
  predictor.dispose()
  assert.ok(Math.abs(tp / union - result.bestIoU) < 1e-6, `predictor IoU ${tp / union} vs training's ${result.bestIoU}`)
})

test('the tensor count after epoch 2 equals the count after epoch 1', async () => {
  const counts: number[] = []
  await trainUnet(small(join(root, 'flat'), { epochs: 3, onEpoch: () => counts.push(tf.memory().numTensors) }))
  assert.equal(counts.length, 3)
  assert.equal(counts[1], counts[0])
  assert.equal(counts[2], counts[0])
})

test('a cancelled run resumes from its last checkpoint and continues the epoch numbering', async () => {
  const runDir = join(root, 'resume')
  const controller = new AbortController()
  const seen: number[] = []
  await assert.rejects(
    trainUnet(
      small(runDir, {
        epochs: 3,
        signal: controller.signal,
        onBatch: (epoch, batch) => {
          if (epoch === 2 && batch === 2) controller.abort(new Error('cancelled by the test'))
        },
        onEpoch: (m) => seen.push(m.epoch)
      })
    ),
    /cancelled by the test/
  )
  assert.deepEqual(seen, [1])
  const epochs: EpochMetrics[] = []
  const result = await trainUnet(small(runDir, { epochs: 3, resume: true, onEpoch: (m) => epochs.push(m) }))
  assert.equal(result.resumedAfterEpoch, 1)
  assert.equal(result.optimizerRestored, true)
  assert.deepEqual(
    epochs.map((m) => m.epoch),
    [2, 3]
  )
  assert.deepEqual(
    result.history.map((m) => m.epoch),
    [1, 2, 3]
  )
})

test('a saved model reloads and predicts identically', async () => {
  const model = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 5)
  const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 9)
  const before = (model.predict(x) as tf.Tensor).dataSync()
  const dir = join(root, 'saved')
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }))
  await saveModelFiles(model, dir)
  const loaded = await loadModelFiles(dir)
  const again = (loaded.predict(x) as tf.Tensor).dataSync()
  assert.deepEqual(Array.from(again), Array.from(before))
  const predictor = await loadModel(dir)
  assert.equal(predictor.inputSize, 32)
  const viaPredictor = await predictor.predictBatch(x.dataSync() as Float32Array, 3)
  assert.deepEqual(Array.from(viaPredictor), Array.from(before))
  // 8-bit rasters give the same maps as the same pixels scaled to 0..1 by hand.
  const pixels = new Uint8Array(32 * 32 * 4).map((_, i) => (i * 37) % 256)
  const fromRaster = await predictor.predictRasters([{ width: 32, height: 32, channels: 4, data: pixels }])
  const byHand = new Float32Array(32 * 32 * 3).map((_, i) => pixels[Math.floor(i / 3) * 4 + (i % 3)] / 255)
  assert.deepEqual(Array.from(fromRaster[0]), Array.from(await predictor.predictBatch(byHand, 1)))
  await assert.rejects(predictor.predictRasters([{ width: 16, height: 32, channels: 3, data: new Uint8Array(16 * 32 * 3) }]), /32×32/)
  predictor.dispose()
  x.dispose()
  model.dispose()
  loaded.dispose()
})

test('early stopping ends the run when validation IoU stops improving', async () => {
  // A learning rate of 0 keeps the weights, so no epoch after the first can be better.
  const result = await trainUnet(small(join(root, 'patience'), { epochs: 6, patience: 2, learningRate: 0 }))
  assert.equal(result.stoppedEarly, true)
  assert.equal(result.bestEpoch, 1)
  assert.deepEqual(
    result.history.map((m) => m.epoch),
    [1, 2, 3]
  )
})

test('training is refused with fewer than 2 labelled photos or no validation photos', async () => {
  await assert.rejects(trainUnet(small(join(root, 'few'), { train: train.slice(0, 1) })), /at least 2 labelled photos/)
  await assert.rejects(trainUnet(small(join(root, 'noval'), { validation: [] })), /validation set/)
})

test('a configuration that does not fit the wasm heap is refused with what would fit', async () => {
  const check = checkTrainingFits(UNET_PRESETS.seed, 64, 'wasm')
  assert.equal(check.fits, false)
  assert.match(check.message!, /batch size of \d+ or less would fit/)
  await assert.rejects(trainUnet(small(join(root, 'huge'), { model: UNET_PRESETS.seed, batchSize: 64 })), /batch size of \d+ or less/)
  assert.equal(checkTrainingFits(UNET_PRESETS['fast-cpu'], 8, 'wasm').fits, true)
})
