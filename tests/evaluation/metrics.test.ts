import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Raster } from '../../src/main/core/imaging/raster'
import {
  ThresholdSweep,
  confusionAt,
  confusionFromHistogram,
  probabilityHistogram,
  quantiseThreshold,
  scores,
  THRESHOLD_STEPS
} from '../../src/main/core/evaluation/metrics'
import { maskFromProbabilities } from '../../src/main/core/model/mask'
import { seededRandom } from '../../src/shared/random'

const gray = (width: number, height: number, values: number[]): Raster => ({ width, height, channels: 1, data: Uint8Array.from(values) })
const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`)

// Photo A, 3×2. At threshold 0.5 the prediction is [1 0 1 / 0 1 1] against truth [1 1 0 / 0 0 1]:
// TP = 2 (pixels 0, 5), FN = 1 (pixel 1), FP = 2 (pixels 2, 4), TN = 1 (pixel 3).
const truthA = gray(3, 2, [255, 255, 0, 0, 0, 255])
const probA = Float32Array.from([0.9, 0.4, 0.6, 0.1, 0.5, 0.7])
// Photo B, 4×1: no leaf, nothing predicted.
const truthB = gray(4, 1, [0, 0, 0, 0])
const probB = Float32Array.from([0, 0.1, 0.2, 0.3])

test('confusion counts and scores match hand-computed values', () => {
  const c = confusionAt(probA, truthA, 0.5)
  assert.deepEqual(c, { tp: 2, fp: 2, fn: 1, tn: 1 })
  const s = scores(c)
  close(s.pixelAccuracy, 3 / 6, 'accuracy')
  close(s.iou, 2 / 5, 'IoU')
  close(s.dice, 4 / 7, 'Dice')
  close(s.precision, 2 / 4, 'precision')
  close(s.recall, 2 / 3, 'recall')
})

test('edge cases: both empty is perfect, missing everything or inventing leaf scores 0', () => {
  assert.deepEqual(scores({ tp: 0, fp: 0, fn: 0, tn: 9 }), { pixelAccuracy: 1, iou: 1, dice: 1, precision: 1, recall: 1 })
  // Truth has leaf, nothing predicted: precision is 0/0 and counts as 0 because the photo has errors.
  assert.deepEqual(scores({ tp: 0, fp: 0, fn: 3, tn: 6 }), { pixelAccuracy: 6 / 9, iou: 0, dice: 0, precision: 0, recall: 0 })
  // Truth empty, leaf predicted: recall is 0/0 and counts as 0.
  assert.deepEqual(scores({ tp: 0, fp: 2, fn: 0, tn: 7 }), { pixelAccuracy: 7 / 9, iou: 0, dice: 0, precision: 0, recall: 0 })
  // All leaf, all found.
  assert.deepEqual(scores({ tp: 4, fp: 0, fn: 0, tn: 0 }), { pixelAccuracy: 1, iou: 1, dice: 1, precision: 1, recall: 1 })
  assert.ok(Number.isNaN(scores({ tp: 0, fp: 0, fn: 0, tn: 0 }).iou))
})

test('pooled scores and per-photo means differ as computed by hand', () => {
  const sweep = new ThresholdSweep([probabilityHistogram(probA, truthA), probabilityHistogram(probB, truthB)])
  const e = sweep.evaluate(0.5)
  assert.equal(e.threshold, 0.5)
  assert.deepEqual(e.pooled.confusion, { tp: 2, fp: 2, fn: 1, tn: 5 })
  close(e.pooled.scores.pixelAccuracy, 7 / 10, 'pooled accuracy')
  close(e.pooled.scores.iou, 2 / 5, 'pooled IoU')
  close(e.pooled.scores.dice, 4 / 7, 'pooled Dice')
  close(e.meanPerPhoto.iou, (2 / 5 + 1) / 2, 'mean IoU')
  close(e.meanPerPhoto.dice, (4 / 7 + 1) / 2, 'mean Dice')
  close(e.meanPerPhoto.pixelAccuracy, (0.5 + 1) / 2, 'mean accuracy')
  close(e.meanPerPhoto.recall, (2 / 3 + 1) / 2, 'mean recall')
  assert.deepEqual(e.perPhoto[1].scores, { pixelAccuracy: 1, iou: 1, dice: 1, precision: 1, recall: 1 })
  // Photo A's best pooled IoU: at 0.7 and above only pixels 0 and 5 are predicted (TP 2, FN 1, FP 0): IoU 2/3.
  // The lowest threshold reaching it is just above 0.6 (pixel 2, p = 0.6, must drop out): 154/256.
  assert.deepEqual(new ThresholdSweep([probabilityHistogram(probA, truthA)]).bestThreshold('iou', 'pooled'), { threshold: 154 / 256, value: 2 / 3 })
  // Threshold 0.75 (a grid value): A predicts only pixel 0 -> TP 1, FN 2, FP 0, TN 3.
  assert.deepEqual(sweep.confusion(0, 0.75), { tp: 1, fp: 0, fn: 2, tn: 3 })
})

test('histogram counts equal pixel counts at every grid threshold, edges and NaN included', () => {
  const random = seededRandom(7)
  const width = 61,
    height = 37
  const prob = new Float32Array(width * height)
  const truth = gray(
    width,
    height,
    Array.from({ length: width * height }, () => (random() < 0.4 ? 255 : 0))
  )
  for (let i = 0; i < prob.length; i++) {
    const r = random()
    // A third exactly on bin edges (k/256, including 0 and 1), a few NaN, the rest anywhere.
    prob[i] = r < 0.33 ? Math.floor(random() * 257) / 256 : r < 0.35 ? NaN : random()
  }
  const histogram = probabilityHistogram(prob, truth)
  const sweep = new ThresholdSweep([histogram])
  for (let k = 0; k <= THRESHOLD_STEPS; k++) {
    const exact = confusionAt(prob, truth, k / 256)
    assert.deepEqual(confusionFromHistogram(histogram, k / 256), exact, `threshold ${k}/256`)
    assert.deepEqual(sweep.confusion(0, k / 256), exact, `sweep at ${k}/256`)
  }
  assert.equal(sweep.curve().length, 257)
})

test('thresholds off the grid are rounded to the nearest 1/256', () => {
  assert.equal(quantiseThreshold(0.3), 77 / 256)
  assert.equal(quantiseThreshold(1.2), 1)
  assert.equal(new ThresholdSweep([probabilityHistogram(probA, truthA)]).evaluate(0.3).threshold, 77 / 256)
  assert.throws(() => quantiseThreshold(NaN), /between 0 and 1/)
})

test('size mismatches name the photo', () => {
  assert.throws(() => probabilityHistogram(new Float32Array(5), truthA, 'leaf_01.jpg'), /leaf_01\.jpg.*3×2/)
  assert.throws(() => confusionAt(probA, { ...truthA, channels: 3 }, 0.5, 'leaf_02.jpg'), /leaf_02\.jpg.*gray/)
})

test('mask from probabilities uses the same rule (p >= threshold)', () => {
  const m = maskFromProbabilities(probA, 3, 2, 0.5)
  assert.deepEqual(Array.from(m.data), [255, 0, 255, 0, 255, 255])
  assert.throws(() => maskFromProbabilities(probA, 4, 2, 0.5), /4×2/)
})
