// Segmentation metrics from a probability map and a truth mask, designed so that moving a threshold slider
// re-scores a whole validation set without re-reading pixels.
//
// Conventions (one place, used by every function here):
// - A truth pixel is leaf when its mask value is >= 128 (masks are 0/255; anti-aliased edges split at the middle).
// - A pixel is predicted leaf when its probability p >= threshold. NaN counts as probability 0.
// - Per photo, the probabilities are binned in HISTOGRAM_BINS = 257 bins: bin k (0..255) holds p in [k/256, (k+1)/256),
//   bin 256 holds p >= 1. Counting bins >= k then gives the exact confusion counts at threshold k/256, so the
//   histogram path and the pixel path agree exactly on those thresholds. Any other threshold is rounded to the
//   nearest k/256 (quantiseThreshold): the slider should step in 1/256 and show the quantised value.
//
// Edge cases — every score is a ratio, and a ratio can be 0/0:
// - IoU = TP/(TP+FP+FN) and Dice = 2TP/(2TP+FP+FN) are 0/0 only when truth and prediction are both empty: the
//   prediction is perfect, so both are 1.
// - Precision = TP/(TP+FP) is 0/0 when nothing is predicted; recall = TP/(TP+FN) is 0/0 when the truth is empty.
//   Rule: 0/0 is 1 when the photo has no errors at all (FP = FN = 0) and 0 otherwise. So a photo without leaf that
//   the model leaves empty scores 1 everywhere; a model that predicts nothing on a photo with leaf gets precision 0
//   (not "undefined", which would drop the photo from the mean and flatter a model that misses whole photos); a model
//   that predicts leaf on a photo without any gets recall 0. Every per-photo mean is then over the same photos.
// - Pixel accuracy = (TP+TN)/all pixels; with no pixels at all (an empty set) every score is NaN.
//
// Pooled scores sum the confusion counts of all photos first (large photos weigh more); per-photo means average the
// photos' scores (every photo weighs the same). They differ, and both are reported.
import type { Raster } from '../imaging/raster'
import { isPredictedLeaf } from '../model/leaf-rules'

export interface Confusion {
  tp: number
  fp: number
  fn: number
  tn: number
}

export interface Scores {
  pixelAccuracy: number
  iou: number
  dice: number
  precision: number
  recall: number
}

export const HISTOGRAM_BINS = 257
/** Thresholds the histogram path is exact for: k / THRESHOLD_STEPS, k = 0..256. */
export const THRESHOLD_STEPS = 256

/** Probabilities of one photo's pixels, binned separately for truth-leaf and truth-background pixels. */
export interface ProbabilityHistogram {
  /** Counts per bin of pixels whose truth is leaf. */
  leaf: Uint32Array
  /** Counts per bin of pixels whose truth is background. */
  background: Uint32Array
}

/** The threshold on the histogram grid nearest to `threshold`, clamped to [0, 1]. */
export function quantiseThreshold(threshold: number): number {
  return thresholdIndex(threshold) / THRESHOLD_STEPS
}

function thresholdIndex(threshold: number): number {
  if (!Number.isFinite(threshold)) throw new Error(`The threshold must be a number between 0 and 1, got ${threshold}`)
  return Math.min(THRESHOLD_STEPS, Math.max(0, Math.round(threshold * THRESHOLD_STEPS)))
}

function checkPair(probabilities: Float32Array, truth: Raster, photo: string): void {
  if (truth.channels !== 1) throw new Error(`The truth mask of ${photo} must be a one-channel (gray) mask, it has ${truth.channels} channels`)
  const pixels = truth.width * truth.height
  if (probabilities.length !== pixels) {
    throw new Error(
      `The prediction for ${photo} has ${probabilities.length} pixels but its truth mask is ${truth.width}×${truth.height} (${pixels} pixels); they must be the same size`
    )
  }
}

/** Exact confusion counts at any threshold, reading every pixel. */
export function confusionAt(probabilities: Float32Array, truth: Raster, threshold: number, photo = 'the photo'): Confusion {
  checkPair(probabilities, truth, photo)
  let tp = 0,
    fp = 0,
    fn = 0,
    tn = 0
  const mask = truth.data
  for (let i = 0; i < probabilities.length; i++) {
    const predicted = isPredictedLeaf(probabilities[i], threshold)
    if (mask[i] >= 128) {
      if (predicted) tp++
      else fn++
    } else if (predicted) fp++
    else tn++
  }
  return { tp, fp, fn, tn }
}

/** Bin one photo's probabilities (one pass over the pixels; keep this, not the pixels, for threshold changes). */
export function probabilityHistogram(probabilities: Float32Array, truth: Raster, photo = 'the photo'): ProbabilityHistogram {
  checkPair(probabilities, truth, photo)
  const leaf = new Uint32Array(HISTOGRAM_BINS)
  const background = new Uint32Array(HISTOGRAM_BINS)
  const mask = truth.data
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]
    // NaN fails both comparisons and lands in bin 0, like probability 0.
    const bin = p >= 1 ? THRESHOLD_STEPS : p > 0 ? Math.floor(p * THRESHOLD_STEPS) : 0
    if (mask[i] >= 128) leaf[bin]++
    else background[bin]++
  }
  return { leaf, background }
}

/** Confusion counts at a threshold from a histogram (threshold rounded to the nearest k/256). */
export function confusionFromHistogram(histogram: ProbabilityHistogram, threshold: number): Confusion {
  const k = thresholdIndex(threshold)
  let tp = 0,
    fn = 0,
    fp = 0,
    tn = 0
  for (let b = 0; b < HISTOGRAM_BINS; b++) {
    if (b >= k) {
      tp += histogram.leaf[b]
      fp += histogram.background[b]
    } else {
      fn += histogram.leaf[b]
      tn += histogram.background[b]
    }
  }
  return { tp, fp, fn, tn }
}

function ratio(numerator: number, denominator: number, perfect: boolean): number {
  if (denominator > 0) return numerator / denominator
  return perfect ? 1 : 0
}

/** Scores from confusion counts, with the edge cases documented at the top of this file. */
export function scores(c: Confusion): Scores {
  const total = c.tp + c.fp + c.fn + c.tn
  if (total === 0) return { pixelAccuracy: NaN, iou: NaN, dice: NaN, precision: NaN, recall: NaN }
  const perfect = c.fp === 0 && c.fn === 0
  return {
    pixelAccuracy: (c.tp + c.tn) / total,
    iou: ratio(c.tp, c.tp + c.fp + c.fn, perfect),
    dice: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, perfect),
    precision: ratio(c.tp, c.tp + c.fp, perfect),
    recall: ratio(c.tp, c.tp + c.fn, perfect)
  }
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn }
}

/** Arithmetic mean of each score over photos (NaN for no photos). */
export function meanScores(list: Scores[]): Scores {
  const sum: Scores = { pixelAccuracy: 0, iou: 0, dice: 0, precision: 0, recall: 0 }
  for (const s of list) {
    sum.pixelAccuracy += s.pixelAccuracy
    sum.iou += s.iou
    sum.dice += s.dice
    sum.precision += s.precision
    sum.recall += s.recall
  }
  const n = list.length
  return { pixelAccuracy: sum.pixelAccuracy / n, iou: sum.iou / n, dice: sum.dice / n, precision: sum.precision / n, recall: sum.recall / n }
}

export interface SetEvaluation {
  /** The threshold actually used (quantised to k/256). */
  threshold: number
  /** Counts summed over all photos, and the scores of those sums. */
  pooled: { confusion: Confusion; scores: Scores }
  /** Each photo's scores averaged, every photo weighing the same. */
  meanPerPhoto: Scores
  perPhoto: { confusion: Confusion; scores: Scores }[]
}

/**
 * A validation set's histograms with cumulative counts precomputed, so that evaluating any threshold costs
 * O(photos), independent of pixel count (a few microseconds for a thousand photos).
 */
export class ThresholdSweep {
  // Per photo, counts of leaf / background pixels with bin >= k, for k = 0..256 (index k); Float64 keeps sums exact.
  private readonly leafAtLeast: Float64Array[]
  private readonly backgroundAtLeast: Float64Array[]

  constructor(histograms: ProbabilityHistogram[]) {
    this.leafAtLeast = histograms.map((h) => suffixSums(h.leaf))
    this.backgroundAtLeast = histograms.map((h) => suffixSums(h.background))
  }

  get photoCount(): number {
    return this.leafAtLeast.length
  }

  confusion(photoIndex: number, threshold: number): Confusion {
    return this.confusionAtIndex(photoIndex, thresholdIndex(threshold))
  }

  evaluate(threshold: number): SetEvaluation {
    const k = thresholdIndex(threshold)
    let pooled: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 }
    const perPhoto = []
    for (let i = 0; i < this.photoCount; i++) {
      const confusion = this.confusionAtIndex(i, k)
      pooled = addConfusion(pooled, confusion)
      perPhoto.push({ confusion, scores: scores(confusion) })
    }
    return {
      threshold: k / THRESHOLD_STEPS,
      pooled: { confusion: pooled, scores: scores(pooled) },
      meanPerPhoto: meanScores(perPhoto.map((p) => p.scores)),
      perPhoto
    }
  }

  /** Pooled and per-photo-mean scores at every grid threshold 0, 1/256, …, 1 (for threshold curves). */
  curve(): { threshold: number; pooled: Scores; meanPerPhoto: Scores }[] {
    const out = []
    for (let k = 0; k <= THRESHOLD_STEPS; k++) {
      const e = this.evaluate(k / THRESHOLD_STEPS)
      out.push({ threshold: e.threshold, pooled: e.pooled.scores, meanPerPhoto: e.meanPerPhoto })
    }
    return out
  }

  /** The grid threshold with the highest score (the lowest such threshold on ties), e.g. to suggest one. */
  bestThreshold(score: keyof Scores, over: 'pooled' | 'meanPerPhoto'): { threshold: number; value: number } {
    let best = { threshold: 0.5, value: -Infinity }
    for (const point of this.curve()) {
      const value = over === 'pooled' ? point.pooled[score] : point.meanPerPhoto[score]
      if (value > best.value) best = { threshold: point.threshold, value }
    }
    return best
  }

  private confusionAtIndex(i: number, k: number): Confusion {
    const leaf = this.leafAtLeast[i]
    const background = this.backgroundAtLeast[i]
    const tp = leaf[k]
    const fp = background[k]
    return { tp, fp, fn: leaf[0] - tp, tn: background[0] - fp }
  }
}

// out[k] = sum of counts[b] for b >= k; out has one extra 0 at index HISTOGRAM_BINS.
function suffixSums(counts: Uint32Array): Float64Array {
  const out = new Float64Array(HISTOGRAM_BINS + 1)
  for (let k = HISTOGRAM_BINS - 1; k >= 0; k--) out[k] = out[k + 1] + counts[k]
  return out
}
