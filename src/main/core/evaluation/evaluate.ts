// Evaluate a model on a set of photos with truth masks: read, predict at full resolution, keep one histogram per photo.
// The histograms (about 2 KB a photo) are all the threshold slider needs afterwards (ThresholdSweep).
import { readRaster } from '../imaging/raster'
import { ThresholdSweep, probabilityHistogram, type ProbabilityHistogram } from './metrics'
import { predictPhoto, type PredictOptions, type Predictor, type ProbabilityMap } from '../model/tiling'

export interface EvaluationItem {
  /** Path of the photo. */
  photo: string
  /** Path of its truth mask (gray PNG, leaf >= 128). */
  truth: string
}

export interface EvaluateOptions extends Omit<PredictOptions, 'photo' | 'onProgress'> {
  /** Called after each photo with photos done and photos in all. */
  onProgress?: (done: number, total: number, message?: string) => void
  /** Receives each photo's probability map, e.g. to store it (writeProbabilityPng); not kept otherwise. */
  onPrediction?: (index: number, map: ProbabilityMap) => Promise<void> | void
}

export async function evaluateSet(
  predictor: Predictor,
  items: EvaluationItem[],
  options: EvaluateOptions = {}
): Promise<{ histograms: ProbabilityHistogram[]; sweep: ThresholdSweep }> {
  const { onProgress, onPrediction, ...predictOptions } = options
  if (items.length === 0) throw new Error('There are no photos with masks to evaluate on')
  const histograms: ProbabilityHistogram[] = []
  onProgress?.(0, items.length)
  for (const [index, item] of items.entries()) {
    options.signal?.throwIfAborted()
    const photo = await readRaster(item.photo, 3)
    const truth = await readRaster(item.truth, 1)
    if (photo.width !== truth.width || photo.height !== truth.height) {
      throw new Error(`The mask ${item.truth} is ${truth.width}×${truth.height} but its photo ${item.photo} is ${photo.width}×${photo.height}`)
    }
    const map = await predictPhoto(predictor, photo, { ...predictOptions, photo: item.photo })
    histograms.push(probabilityHistogram(map.data, truth, item.photo))
    await onPrediction?.(index, map)
    onProgress?.(index + 1, items.length, item.photo)
  }
  return { histograms, sweep: new ThresholdSweep(histograms) }
}
