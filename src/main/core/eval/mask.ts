// Probability map -> binary mask (0 / 255) and its PNG file.
import { writePng, type Raster } from '../imaging/raster'
import { isPredictedLeaf } from './metrics'

/** One-channel mask, 255 where the probability reaches the threshold (the same rule as the metrics). */
export function maskFromProbabilities(probabilities: Float32Array, width: number, height: number, threshold: number): Raster {
  if (probabilities.length !== width * height) {
    throw new Error(`The probability map has ${probabilities.length} values but the photo is ${width}×${height}`)
  }
  const data = new Uint8Array(width * height)
  for (let i = 0; i < data.length; i++) data[i] = isPredictedLeaf(probabilities[i], threshold) ? 255 : 0
  return { width, height, channels: 1, data }
}

/** Write the thresholded mask as a gray PNG, atomically (through raster.ts). */
export async function writeMaskPng(path: string, probabilities: Float32Array, width: number, height: number, threshold: number): Promise<void> {
  await writePng(path, maskFromProbabilities(probabilities, width, height, threshold))
}
