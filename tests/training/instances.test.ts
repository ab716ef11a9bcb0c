// A run that separates leaves, on generated photos of two touching discs: it trains on their leaf ids, keeps the
// epoch whose separated leaves score best (SBD) on the validation photos, its checkpoint predicts leaf and leaf
// centre, the leaves it separates score better than connected regions, and its layers export to ONNX with the two
// channels.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEngine, type OpenEngine } from '../../src/main/core/model/engine-choice'
import { trainUnet } from '../../src/main/core/training/train'
import { loadModel } from '../../src/main/core/model/predict'
import { loadModelFiles } from '../../src/main/core/model/model-io'
import { unetToOnnxGraph } from '../../src/main/core/model/onnx-export'
import { fullResolution, predictPhoto } from '../../src/main/core/model/tiling'
import { separateLeaves, labelComponents } from '../../src/main/core/model/instances'
import { instanceScores, summariseInstances } from '../../src/main/core/evaluation/instances'
import { readRaster } from '../../src/main/core/imaging/raster'
import type { Sample } from '../../src/main/core/training/data'
import { touchingDiscs, DISC_SIZE as SIZE } from './fixtures'

let root: string
let engine: OpenEngine
let samples: (Sample & { ids: Uint16Array })[]

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'leafseg-instances-'))
  samples = await touchingDiscs(join(root, 'photos'), 28, 5)
  engine = await openEngine('wasm')
})
after(async () => {
  await engine.close()
  await rm(root, { recursive: true, force: true })
})

test('an instance run learns touching discs and tells them apart better than connected regions do', async () => {
  const runDir = join(root, 'run')
  const train = samples.slice(0, 22)
  const validation = samples.slice(22)
  const result = await trainUnet({
    runDir,
    train,
    validation,
    model: { inputSize: SIZE, baseFilters: 8, depth: 2, instances: true },
    batchSize: 4,
    epochs: 24,
    learningRate: 5e-3,
    loss: 'bce+dice',
    augment: { flips: true, rotate90: true },
    seed: 2,
    engine
  })
  assert.ok(result.bestIoU >= 0.8, `leaf IoU ${result.bestIoU.toFixed(3)}`)

  // The best checkpoint is the epoch with the best validation SBD, measured on the separated leaves every epoch.
  const sbds = result.history.map((e) => e.leaves?.sbd ?? NaN)
  assert.ok(
    sbds.every((v) => v >= 0 && v <= 1),
    `SBD every epoch: ${sbds.join(', ')}`
  )
  assert.equal(result.bestEpoch, sbds.indexOf(Math.max(...sbds)) + 1, `best epoch ${result.bestEpoch}, SBDs ${sbds.map((v) => v.toFixed(3)).join(' ')}`)
  let runningBest = -1
  for (const e of result.history) {
    assert.equal(e.best, e.leaves!.sbd > runningBest, `epoch ${e.epoch} marked best: ${e.best}`)
    runningBest = Math.max(runningBest, e.leaves!.sbd)
  }
  const ious = result.history.map((e) => e.validation.iou)
  assert.equal(result.bestIoU, ious[result.bestEpoch - 1], 'bestIoU is the IoU of the epoch kept')

  const model = await loadModel(join(runDir, 'best'))
  assert.equal(model.meta?.instances, true)
  assert.equal(model.meta?.leafMap, 'centre')
  assert.equal(model.meta?.epoch, result.bestEpoch)
  // The seed level that separated the validation photos best is the run's own, kept with the checkpoint.
  assert.ok(model.meta!.seedLevel! >= 0.2 && model.meta!.seedLevel! <= 0.7, `seed level ${model.meta?.seedLevel}`)
  const { predictor, options } = fullResolution(model)
  assert.equal(predictor.channels, 2)
  const separated = []
  const regions = []
  for (const s of validation) {
    const map = await predictPhoto(predictor, await readRaster(s.imagePath, 3), options)
    assert.ok(map.centre, 'the prediction carries the leaf centres')
    separated.push(instanceScores(separateLeaves(map).ids, s.ids))
    regions.push(instanceScores(labelComponents(SIZE * SIZE, SIZE, (i) => map.data[i] >= 0.5).labels, s.ids))
  }
  model.dispose()
  const leaves = summariseInstances(separated)!
  const blobs = summariseInstances(regions)!
  const seen = `separated: SBD ${leaves.sbd.toFixed(3)} |DiC| ${leaves.absDic.toFixed(2)}; connected regions: SBD ${blobs.sbd.toFixed(3)} |DiC| ${blobs.absDic.toFixed(2)}`
  assert.ok(blobs.absDic >= 0.8, `connected regions merge the touching discs (${seen})`)
  assert.ok(leaves.sbd > blobs.sbd + 0.1, seen)
  assert.ok(leaves.absDic < blobs.absDic, seen)

  // The checkpoint exports to ONNX with its two output channels.
  const layers = await loadModelFiles(join(runDir, 'best'))
  try {
    assert.deepEqual(unetToOnnxGraph(layers).outputs[0].dims, ['batch', 'height', 'width', 2])
  } finally {
    layers.dispose()
  }
})

test('an instance run without any leaf ids in its training photos is refused with what to do', async () => {
  const plain = samples.map(({ id, imagePath, maskPath }) => ({ id, imagePath, maskPath }))
  await assert.rejects(
    trainUnet({
      runDir: join(root, 'refused'),
      train: plain.slice(0, 4),
      validation: plain.slice(4, 6),
      model: { inputSize: SIZE, baseFilters: 4, depth: 2, instances: true },
      batchSize: 2,
      epochs: 1,
      augment: null,
      engine
    }),
    /Separating leaves needs masks that tell the leaves apart/
  )
})
