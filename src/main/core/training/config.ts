// Training presets and the mapping from the API's configuration to the ML core's options.
// No tfjs here: the service imports this in the main process.
import type { AugmentSwitches, PresetName, TrainingConfig, TrainingPreset } from '../../../shared/api/training'
import { DEFAULT_AUGMENT, type AugmentOptions } from './data'
import { defaultWorkers } from '../model/worker-pool'

export const ALL_AUGMENTATIONS: AugmentSwitches = { flips: true, rotate90: true, rotate: true, scale: true, color: true, blur: true, noise: true }

/** The network sizes equal the ML core's UNET_PRESETS (a test checks it). */
export const TRAINING_PRESETS: TrainingPreset[] = [
  {
    name: 'fast-cpu',
    label: 'Fast CPU',
    description: 'Whole photos squeezed to 128×128, 16 base filters, depth 4: trains in minutes per epoch on a CPU.',
    config: {
      preset: 'fast-cpu',
      inputSize: 128,
      baseFilters: 16,
      depth: 4,
      batchSize: 8,
      epochs: 40,
      learningRate: 0.001,
      loss: 'bce+dice',
      patience: 10,
      seed: 1,
      augment: ALL_AUGMENTATIONS
    }
  },
  {
    name: 'leaves-cpu',
    label: 'Leaves (CPU)',
    description:
      "Separates leaves: 96×96 crops of the photo at its own scale (1 network pixel per photo pixel, so the seams between leaves keep their width; prediction tiles photos at that scale), 16 base filters, depth 4. For photos where a leaf is some 20–100 pixels across, like komatsuna's.",
    config: {
      preset: 'leaves-cpu',
      inputSize: 96,
      baseFilters: 16,
      depth: 4,
      batchSize: 4,
      epochs: 12,
      learningRate: 0.001,
      loss: 'bce+dice',
      patience: 0,
      seed: 1,
      augment: ALL_AUGMENTATIONS,
      instances: true,
      sampling: { mode: 'crops', scale: 1 }
    }
  },
  {
    name: 'seed',
    label: 'Seed U-Net',
    description: 'The published network: whole photos squeezed to 256×256, filters 64-128-256-512, bridge 1024; Adam, binary cross-entropy, 30 epochs.',
    config: {
      preset: 'seed',
      inputSize: 256,
      baseFilters: 64,
      depth: 4,
      batchSize: 4,
      epochs: 30,
      learningRate: 0.001,
      loss: 'bce',
      patience: 0,
      seed: 1,
      augment: ALL_AUGMENTATIONS
    }
  }
]

export function presetConfig(name: PresetName): TrainingConfig {
  const preset = TRAINING_PRESETS.find((p) => p.name === name)
  if (!preset) throw new Error(`Unknown preset ${name}`)
  return structuredClone(preset.config)
}

/** The ML core's augmentation options for the switches: each switch on uses the core's default strength. */
export function augmentOptions(a: AugmentSwitches): AugmentOptions | null {
  if (!Object.values(a).some(Boolean)) return null
  const d = DEFAULT_AUGMENT
  return {
    flips: a.flips,
    rotate90: a.rotate90,
    rotateDegrees: a.rotate ? d.rotateDegrees : 0,
    scaleRange: a.scale ? d.scaleRange : false,
    brightness: a.color ? d.brightness : 0,
    contrast: a.color ? d.contrast : 0,
    saturation: a.color ? d.saturation : 0,
    hueDegrees: a.color ? d.hueDegrees : 0,
    blurProbability: a.blur ? d.blurProbability : 0,
    blurSigma: d.blurSigma,
    noiseStd: a.noise ? d.noiseStd : 0
  }
}

/** Same checks as the ML core's checkUnetConfig, in the main process without loading tfjs. */
export function networkProblem(c: Pick<TrainingConfig, 'inputSize' | 'depth'>): string | null {
  const unit = 2 ** c.depth
  if (c.inputSize % unit !== 0) return `The input size must be a multiple of ${unit} for depth ${c.depth} (got ${c.inputSize}); try ${Math.max(unit, Math.round(c.inputSize / unit) * unit)}.`
  return null
}

/** The CPU workers a run trains with: the number it asks for, else the default; never more than its batch. */
export function runWorkers(c: Pick<TrainingConfig, 'workers' | 'batchSize'>): number {
  return Math.min(c.workers ?? defaultWorkers(c.batchSize), c.batchSize)
}
