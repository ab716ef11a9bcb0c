// The bounds and defaults of every setting a person can type or slide, declared once: the API's schemas enforce
// the bounds, and the views and the command line read both from here (so they cannot disagree).
import type { TrimapChoice, TrimapSettings } from './domain'

export interface Bound {
  min: number
  max: number
}

/** Trimap settings: a k×k square kernel, erosions for definite leaf, dilations for definite background. */
export const trimapBounds = {
  kernelSize: { min: 1, max: 101 },
  fgIterations: { min: 0, max: 1000 },
  bgIterations: { min: 0, max: 1000 }
} satisfies Record<keyof TrimapSettings, Bound>

/** Where the inspector's trimap sliders stop (the API takes more; past this the unknown band swallows a leaf). */
export const trimapSliderMax: TrimapSettings = { kernelSize: 31, fgIterations: 30, bgIterations: 30 }

/** The seed's fixed values: suit large photos (grapevine), erase seedlings' leaves; one click away from 'auto'. */
export const seedTrimapSettings: TrimapSettings = { kernelSize: 5, fgIterations: 5, bgIterations: 5 }

/** What a new dataset starts with: the unknown band fitted to each photo's leaves. */
export const defaultTrimapChoice: TrimapChoice = { mode: 'auto' }

/** Gray masks: leaf where value ≥ threshold. */
export const maskThresholdBounds: Bound = { min: 1, max: 255 }
export const defaultMaskThreshold = 128

/** Each part of a train/validation/test ratio, in percent. */
export const splitPercentBounds: Bound = { min: 0, max: 100 }

/**
 * What is wrong with a train/validation/test ratio, or null: its parts are percentages of the photos, so they
 * add up to 100 (80/30 would silently become 73/27).
 */
export function splitRatioProblem(ratio: readonly number[]): string | null {
  const sum = ratio.reduce((a, b) => a + b, 0)
  return sum === 100 ? null : `must add up to 100 (${ratio.join('/')} adds up to ${Math.round(sum * 1000) / 1000})`
}

export const seedBounds: Bound = { min: 0, max: 2 ** 31 }
/** A dataset's train/validation/test split: the same seed gives the same split. */
export const defaultSplitSeed = 42

/** A training configuration; the learning rate must also be above its minimum (0 is not a rate). */
export const trainingBounds = {
  inputSize: { min: 16, max: 2048 },
  baseFilters: { min: 1, max: 256 },
  depth: { min: 1, max: 6 },
  batchSize: { min: 1, max: 512 },
  epochs: { min: 1, max: 10_000 },
  learningRate: { min: 0, max: 1 },
  patience: { min: 0, max: 10_000 },
  workers: { min: 1, max: 256 }
} satisfies Record<string, Bound>

/** Probability threshold for a mask, 0–1. */
export const probabilityThresholdBounds: Bound = { min: 0, max: 1 }
export const defaultProbabilityThreshold = 0.5

/** Measuring leaves: connected regions smaller than this many pixels are noise, neither counted nor in the area. */
export const minLeafAreaBounds: Bound = { min: 1, max: 1e9 }
/** Drops specks and keeps seedlings' small leaves: of komatsuna's 1413 labelled leaves, 181 are under 100 px, 100 under 50. */
export const defaultMinLeafAreaPx = 50

/** Pixels per millimetre, to give areas in mm²; must be above its minimum (0 is not a scale). */
export const pxPerMmBounds: Bound = { min: 0, max: 1e6 }

/** At most this many ids or paths in one call. */
export const maxIdsPerCall = 100_000

/** The labelling API: photo sides, clicks per proposal (more than a person makes on one photo) and the length of a mask's RLE. */
export const assistBounds = {
  maxSide: 65_535,
  maxClicks: 200,
  maxRleCounts: 20_000_000
}

/** Leaves one photo's instances can hold: the stored instance image is 8-bit (0 = background). */
export const maxLeavesPerPhoto = 255
