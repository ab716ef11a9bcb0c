// The pixel classifier: a random forest (forest.ts) on the filter stack of pixel-features.ts, trained from the
// pixels a person stroked as leaf or background, predicting P(leaf) for every pixel of a photo. Photos over
// `maxFeaturePixels` are scaled down (area average) for the features and the probability scaled back up
// (bilinear): the filters look at structures of several pixels anyway, and the cost stays bounded.
import type { Raster } from '../imaging/raster'
import { seededRandom } from '../../../shared/random'
import { defaultSigmas, featureCount, pixelFeatures, resizeBilinear, type Features } from './pixel-features'
import { defaultForestOptions, predictForest, trainForest, type Forest, type ForestOptions } from './forest'

/** Stroke values, one byte a pixel of the photo. */
export const strokeValue = { none: 0, leaf: 1, background: 2 } as const

export interface PixelClassifier {
  sigmas: number[]
  maxFeaturePixels: number
  forest: Forest
  /** Stroke pixels it was trained on, per class. */
  samples: { leaf: number; background: number }
}

export interface TrainOptions {
  sigmas?: number[]
  maxFeaturePixels?: number
  /** At most this many stroke pixels of each class from each photo (picked at random, seeded). */
  maxSamplesPerClass?: number
  forest?: Partial<ForestOptions>
}

export const defaultMaxFeaturePixels = 1_000_000
const defaultMaxSamplesPerClass = 3000

/** The raster scaled down (area average) to at most maxPixels, or itself when it is small enough. */
export function scaleDown(rgb: Raster, maxPixels: number): Raster {
  const { width, height, channels } = rgb
  if (width * height <= maxPixels) return rgb
  const s = Math.sqrt(maxPixels / (width * height))
  const w = Math.max(1, Math.floor(width * s))
  const h = Math.max(1, Math.floor(height * s))
  const data = new Uint8Array(w * h * channels)
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h)
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h))
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w)
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w))
      for (let c = 0; c < channels; c++) {
        let sum = 0
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += rgb.data[(yy * width + xx) * channels + c]
        data[(y * w + x) * channels + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)))
      }
    }
  }
  return { width: w, height: h, channels, data }
}

/** Up to `max` of the indices where `strokes` equals `value`, chosen at random (reservoir sampling). */
function samplePixels(strokes: Uint8Array, value: number, max: number, random: () => number): number[] {
  const picked: number[] = []
  let seen = 0
  for (let i = 0; i < strokes.length; i++) {
    if (strokes[i] !== value) continue
    seen++
    if (picked.length < max) picked.push(i)
    else {
      const j = Math.floor(random() * seen)
      if (j < max) picked[j] = i
    }
  }
  return picked
}

/** A photo's features at the size the classifier works at, with the photo's own size. */
export interface PhotoFeatures {
  width: number
  height: number
  features: Features
}

export function photoFeatures(rgb: Raster, sigmas: readonly number[] = defaultSigmas, maxFeaturePixels = defaultMaxFeaturePixels): PhotoFeatures {
  return { width: rgb.width, height: rgb.height, features: pixelFeatures(scaleDown(rgb, maxFeaturePixels), sigmas) }
}

/** The stroked pixels of one photo as training rows: their features, and 1 (leaf) or 0 (background). */
export interface StrokeSamples {
  /** Row-major: featureCount values a sample. */
  x: Float32Array
  labels: Uint8Array
  leaf: number
  background: number
}

/**
 * Up to `perClass` stroked pixels of each class of one photo (picked at random, seeded by `seed`, so the same strokes
 * always give the same samples and a photo's samples can be kept between trainings), with their features.
 */
export function strokeSamples(
  photo: PhotoFeatures,
  strokes: Uint8Array,
  perClass = defaultMaxSamplesPerClass,
  seed = defaultForestOptions.seed
): StrokeSamples {
  const { features, width, height } = photo
  if (strokes.length !== width * height) throw new Error(`The strokes have ${strokes.length} pixels but the photo is ${width}×${height}.`)
  const random = seededRandom(seed ^ 0x5eed)
  const picks = [strokeValue.leaf, strokeValue.background].map((v) => samplePixels(strokes, v, perClass, random))
  const count = features.count
  const n = features.width * features.height
  const total = picks[0].length + picks[1].length
  const x = new Float32Array(total * count)
  const labels = new Uint8Array(total)
  let row = 0
  picks.forEach((indices, k) => {
    for (const i of indices) {
      // the stroked pixel's place in the (maybe scaled-down) features
      const fx = Math.min(features.width - 1, Math.floor((((i % width) + 0.5) * features.width) / width))
      const fy = Math.min(features.height - 1, Math.floor(((Math.floor(i / width) + 0.5) * features.height) / height))
      const at = fy * features.width + fx
      for (let f = 0; f < count; f++) x[row * count + f] = features.data[f * n + at]
      labels[row++] = k === 0 ? 1 : 0
    }
  })
  return { x, labels, leaf: picks[0].length, background: picks[1].length }
}

/**
 * Train from photos and their strokes (each the photo's size: 0 none, 1 leaf, 2 background), or from samples
 * already taken (strokeSamples). Throws when the strokes do not mark both classes.
 */
export function trainPixelClassifier(
  photos: ({ rgb?: Raster; features?: PhotoFeatures; strokes: Uint8Array } | StrokeSamples)[],
  options: TrainOptions = {}
): PixelClassifier {
  const sigmas = options.sigmas ?? [...defaultSigmas]
  const maxFeaturePixels = options.maxFeaturePixels ?? defaultMaxFeaturePixels
  const perClass = options.maxSamplesPerClass ?? defaultMaxSamplesPerClass
  const forestOptions = { ...defaultForestOptions, ...options.forest }
  const count = featureCount(sigmas)
  const none: StrokeSamples = { x: new Float32Array(0), labels: new Uint8Array(0), leaf: 0, background: 0 }
  const taken = photos.map((photo) => {
    if ('labels' in photo) return photo
    if (!photo.strokes.some((v) => v === strokeValue.leaf || v === strokeValue.background)) return none // no features for a photo without strokes
    return strokeSamples(photo.features ?? photoFeatures(photo.rgb!, sigmas, maxFeaturePixels), photo.strokes, perClass, forestOptions.seed)
  })
  const samples = { leaf: 0, background: 0 }
  for (const t of taken) {
    if (t.labels.length && t.x.length !== t.labels.length * count)
      throw new Error(`internal: samples of ${t.x.length / t.labels.length} features, expected ${count}`)
    samples.leaf += t.leaf
    samples.background += t.background
  }
  if (samples.leaf === 0 || samples.background === 0)
    throw new Error(`The strokes need both leaf and background pixels (they have ${samples.leaf} leaf and ${samples.background} background).`)
  const x = new Float32Array(taken.reduce((n, t) => n + t.x.length, 0))
  const labels = new Uint8Array(samples.leaf + samples.background)
  let at = 0
  for (const t of taken) {
    x.set(t.x, at * count)
    labels.set(t.labels, at)
    at += t.labels.length
  }
  const forest = trainForest(x, labels, count, forestOptions)
  return { sigmas, maxFeaturePixels, forest, samples }
}

/** P(leaf) for every pixel of the photo, row-major, the photo's size (from the photo, or its features made with the classifier's settings). */
export function classifyPixels(classifier: PixelClassifier, photo: Raster | PhotoFeatures): Float32Array {
  const { features, width, height } = 'features' in photo ? photo : photoFeatures(photo, classifier.sigmas, classifier.maxFeaturePixels)
  if (features.count !== classifier.forest.featureCount)
    throw new Error(`internal: features of ${features.count}, the classifier reads ${classifier.forest.featureCount}`)
  const p = new Float32Array(features.width * features.height)
  predictForest(classifier.forest, features.data, p)
  return features.width === width && features.height === height ? p : resizeBilinear(p, features.width, features.height, width, height)
}

/** Share of pixels with a probability in the unsure band (0.2–0.8): the review queue's order. */
export function unsureShare(p: Float32Array): number {
  let unsure = 0
  for (let i = 0; i < p.length; i++) if (p[i] >= 0.2 && p[i] <= 0.8) unsure++
  return p.length ? unsure / p.length : 0
}
