// Probability map -> binary mask (0 / 255) and PNG files for masks and for probability maps.
import { readRaster, writePng, type Raster } from '../imaging/raster'
import type { ProbabilityMap } from './tiling'
import { isPredictedLeaf } from './leaf-rules'

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

// A probability map is stored as an 8-bit gray PNG whose value is the histogram bin: min(255, floor(p·256)).
// Read back as value/256, it thresholds exactly like the original at every grid threshold k/256 with k ≤ 255
// (only threshold 1 itself is lost), so masks, error maps and metrics re-made from the file match the live ones.

/** Probabilities as an 8-bit gray raster (value = min(255, floor(p·256)); NaN as 0). */
export function probabilityRaster(map: ProbabilityMap): Raster {
  const data = new Uint8Array(map.data.length)
  for (let i = 0; i < data.length; i++) {
    const p = map.data[i]
    data[i] = p >= 1 ? 255 : p > 0 ? Math.min(255, Math.floor(p * 256)) : 0
  }
  return { width: map.width, height: map.height, channels: 1, data }
}

export async function writeProbabilityPng(path: string, map: ProbabilityMap): Promise<void> {
  await writePng(path, probabilityRaster(map))
}

/** Read a probability PNG written by writeProbabilityPng: each pixel becomes value/256. */
export async function readProbabilityPng(path: string): Promise<ProbabilityMap> {
  const raster = await readRaster(path, 1)
  return { width: raster.width, height: raster.height, data: Float32Array.from(raster.data, (v) => v / 256) }
}
