// Training presets and the mapping from the API's configuration to the ML core's options.
// No tfjs here: the service imports this in the main process.
// The presets themselves are in shared/training-config.ts, where the CLI and the Training view read them too.
import type { AugmentSwitches, TrainingConfig } from '../../../shared/api/training'
import { clampWorkers } from '../../../shared/training-config'
import { DEFAULT_AUGMENT, type AugmentOptions } from './data'
import { defaultWorkers } from '../model/worker-pool'

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
  if (c.inputSize % unit !== 0)
    return `The input size must be a multiple of ${unit} for depth ${c.depth} (got ${c.inputSize}); try ${Math.max(unit, Math.round(c.inputSize / unit) * unit)}.`
  return null
}

/** The CPU workers a run trains with: the number it asks for, else the default; never more than its batch. */
export function runWorkers(c: Pick<TrainingConfig, 'workers' | 'batchSize'>): number {
  return c.workers === undefined ? defaultWorkers(c.batchSize) : clampWorkers(c.workers, c.batchSize)
}
