// The error layer, computed in the renderer from a photo's predicted probabilities and its truth mask, so
// that it follows the threshold slider without a round trip. Colours are Okabe-Ito (colour-blind safe).
import { decodeLayer } from '../inspector/layers'

export const ERROR_COLOURS = {
  truePositive: '#0072B2',
  falsePositive: '#D55E00',
  falseNegative: '#F0E442'
} as const

export const ERROR_LEGEND = [
  { colour: ERROR_COLOURS.truePositive, label: 'Leaf, found (true positive)' },
  { colour: ERROR_COLOURS.falsePositive, label: 'Background called leaf (false positive)' },
  { colour: ERROR_COLOURS.falseNegative, label: 'Leaf missed (false negative)' }
]

const rgb = (hex: string) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]

/**
 * RGBA pixels: TP blue, FP vermillion, FN yellow, TN transparent. Probabilities are 8-bit (value = p×256);
 * a pixel is predicted leaf when p ≥ threshold, the rule the evaluation's figures follow.
 */
export function errorPixels(probability: Uint8ClampedArray, truth: Uint8ClampedArray, threshold: number): Uint8ClampedArray<ArrayBuffer> {
  const k = Math.round(Math.min(1, Math.max(0, threshold)) * 256)
  const out = new Uint8ClampedArray(probability.length * 4)
  const [tp, fp, fn] = [ERROR_COLOURS.truePositive, ERROR_COLOURS.falsePositive, ERROR_COLOURS.falseNegative].map(rgb)
  for (let i = 0; i < probability.length; i++) {
    const predicted = k <= 0 || probability[i] >= k
    const leaf = truth[i] >= 128
    const c = predicted ? (leaf ? tp : fp) : leaf ? fn : null
    if (!c) continue
    out[i * 4] = c[0]
    out[i * 4 + 1] = c[1]
    out[i * 4 + 2] = c[2]
    out[i * 4 + 3] = 255
  }
  return out
}

/** The error layer as a PNG object URL (revoke it when done), from the two project files' URLs. */
export async function errorLayerUrl(probabilityUrl: string, maskUrl: string, threshold: number): Promise<string> {
  const [probability, truth] = await Promise.all([decodeLayer(probabilityUrl), decodeLayer(maskUrl)])
  if (probability.width !== truth.width || probability.height !== truth.height) {
    throw new Error(`The prediction (${probability.width}×${probability.height}) and the mask (${truth.width}×${truth.height}) differ in size.`)
  }
  const canvas = document.createElement('canvas')
  canvas.width = truth.width
  canvas.height = truth.height
  canvas.getContext('2d')!.putImageData(new ImageData(errorPixels(probability.values, truth.values, threshold), truth.width, truth.height), 0, 0)
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'))
  if (!blob) throw new Error('The error layer could not be drawn.')
  return URL.createObjectURL(blob)
}
