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

/**
 * Train from photos and their strokes (each the photo's size: 0 none, 1 leaf, 2 background). Throws when the
 * strokes do not mark both classes.
 */
export function trainPixelClassifier(photos: { rgb?: Raster; features?: PhotoFeatures; strokes: Uint8Array }[], options: TrainOptions = {}): PixelClassifier {
  const sigmas = options.sigmas ?? [...defaultSigmas]
  const maxFeaturePixels = options.maxFeaturePixels ?? defaultMaxFeaturePixels
  const perClass = options.maxSamplesPerClass ?? defaultMaxSamplesPerClass
  const forestOptions = { ...defaultForestOptions, ...options.forest }
  const random = seededRandom(forestOptions.seed ^ 0x5eed)
  const count = featureCount(sigmas)
  const rows: number[][] = []
  const labels: number[] = []
  const samples = { leaf: 0, background: 0 }
  for (const photo of photos) {
    const { strokes } = photo
    const size = photo.features ?? photo.rgb!
    if (strokes.length !== size.width * size.height) throw new Error(`The strokes have ${strokes.length} pixels but the photo is ${size.width}×${size.height}.`)
    const picks = [strokeValue.leaf, strokeValue.background].map((v) => samplePixels(strokes, v, perClass, random))
    if (picks[0].length + picks[1].length === 0) continue
    const { features, width, height } = photo.features ?? photoFeatures(photo.rgb!, sigmas, maxFeaturePixels)
    if (features.count !== count) throw new Error(`internal: features of ${features.count}, expected ${count}`)
    const small = features
    picks.forEach((indices, k) => {
      for (const i of indices) {
        const x = Math.min(small.width - 1, Math.floor((((i % width) + 0.5) * small.width) / width))
        const y = Math.min(small.height - 1, Math.floor(((Math.floor(i / width) + 0.5) * small.height) / height))
        const p = y * small.width + x
        const n = small.width * small.height
        rows.push(Array.from({ length: count }, (_, f) => features.data[f * n + p]))
        labels.push(k === 0 ? 1 : 0)
      }
    })
    samples.leaf += picks[0].length
    samples.background += picks[1].length
  }
  if (samples.leaf === 0 || samples.background === 0)
    throw new Error(`The strokes need both leaf and background pixels (they have ${samples.leaf} leaf and ${samples.background} background).`)
  const x = new Float32Array(rows.length * count)
  rows.forEach((r, i) => x.set(r, i * count))
  const forest = trainForest(x, Uint8Array.from(labels), count, forestOptions)
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
