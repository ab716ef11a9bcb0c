// The training presets, their labels, and the one way a preset plus a person's choices becomes a run's
// configuration: the CLI, the Training view and the service all read them from here (no runtime dependencies).
import type { AugmentSwitches, PresetName, TrainingConfig, TrainingPreset } from './api/training'
import { trainingBounds } from './bounds'

export const ALL_AUGMENTATIONS: AugmentSwitches = { flips: true, rotate90: true, rotate: true, scale: true, color: true, blur: true, noise: true }
export const NO_AUGMENTATIONS: AugmentSwitches = { flips: false, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false }

/** What each preset (and a network of one's own) is called wherever a person reads it: run names, views, help. */
export const presetLabels: Record<TrainingConfig['preset'], string> = {
  'fast-cpu': 'Fast CPU',
  'leaves-cpu': 'Leaves (CPU)',
  seed: 'Seed U-Net',
  custom: 'Custom U-Net'
}

/** The network sizes equal the ML core's UNET_PRESETS (a test checks it). */
export const TRAINING_PRESETS: TrainingPreset[] = [
  {
    name: 'fast-cpu',
    label: presetLabels['fast-cpu'],
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
    label: presetLabels['leaves-cpu'],
    description:
      'Separates leaves: 96×96 crops of the photo at its own scale (1 network pixel per photo pixel, so the seams between leaves keep ' +
      "their width; prediction tiles photos at that scale), 16 base filters, depth 4. For photos where a leaf is some 20–100 pixels across, like komatsuna's.",
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
    label: presetLabels.seed,
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

/** The preset a new run starts from. */
export const defaultPresetName: PresetName = 'fast-cpu'

export const presetNames = TRAINING_PRESETS.map((p) => p.name)

/** CPU workers each take a share of every batch: at least one, never more than the batch nor the bound. */
export function clampWorkers(workers: number, batchSize: number): number {
  return Math.max(trainingBounds.workers.min, Math.min(workers, batchSize, trainingBounds.workers.max))
}

/**
 * A run's configuration: the preset's values, each choice given (not undefined) in their place; a network other
 * than the preset's is 'custom'. The API checks every value against its bounds (and clamps the workers to the batch).
 */
export function fromPreset(name: PresetName, overrides: Partial<Omit<TrainingConfig, 'preset'>> = {}): TrainingConfig {
  const preset = TRAINING_PRESETS.find((p) => p.name === name)
  if (!preset) throw new Error(`There is no training preset “${name}”; the presets are ${presetNames.join(' and ')}.`)
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainingConfig>
  const config: TrainingConfig = { ...structuredClone(preset.config), ...given }
  const p = preset.config
  config.preset = config.inputSize === p.inputSize && config.baseFilters === p.baseFilters && config.depth === p.depth ? name : 'custom'
  return config
}
