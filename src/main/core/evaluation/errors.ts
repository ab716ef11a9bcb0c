// Error map for the inspector: each pixel coloured by whether the prediction got it right.
//
// Palette (Okabe & Ito 2008, "Color Universal Design"), chosen to stay apart under the common colour-vision deficiencies:
//   TP  blue        #0072B2  correct leaf
//   FP  vermillion  #D55E00  predicted leaf, truly background (false alarm)
//   FN  yellow      #F0E442  leaf the model missed
//   TN  transparent          correct background, so the photo shows through
// Under deuteranopia and protanopia the red-green axis collapses but blue-yellow survives: TP stays blue, FN stays a
// light yellow and FP turns a dark olive/brown, so FP and FN still differ strongly in lightness. Under tritanopia
// (blue-yellow) the three remain apart by hue (teal, pink, red). tests/eval/errors.test.ts checks that every pair
// differs by CIELAB ΔE > 30 under the Machado et al. (2009) simulation (smallest: FP vs FN under deuteranopia, ≈ 34;
// Okabe-Ito's reddish purple for FN would drop to ≈ 23 against TP under protanopia).
import type { Raster } from '../imaging/raster'

export type Rgb = readonly [number, number, number]

export const ERROR_COLOURS: { truePositive: Rgb; falsePositive: Rgb; falseNegative: Rgb } = {
  truePositive: [0, 114, 178],
  falsePositive: [213, 94, 0],
  falseNegative: [240, 228, 66]
}

/**
 * RGBA overlay of a predicted mask against a truth mask (both one-channel, leaf >= 128), same size.
 * `opacity` (0..255, default 255) is the alpha of TP/FP/FN pixels; TN pixels are fully transparent.
 */
export function errorOverlay(predicted: Raster, truth: Raster, options: { opacity?: number; photo?: string } = {}): Raster {
  const photo = options.photo ?? 'the photo'
  if (predicted.channels !== 1 || truth.channels !== 1) throw new Error(`The masks of ${photo} must be one-channel (gray) masks`)
  if (predicted.width !== truth.width || predicted.height !== truth.height) {
    throw new Error(
      `The predicted mask of ${photo} is ${predicted.width}×${predicted.height} but its truth mask is ${truth.width}×${truth.height}; they must be the same size`
    )
  }
  const opacity = Math.round(Math.min(255, Math.max(0, options.opacity ?? 255)))
  const out = new Uint8Array(predicted.width * predicted.height * 4)
  const { truePositive, falsePositive, falseNegative } = ERROR_COLOURS
  for (let i = 0, o = 0; i < predicted.data.length; i++, o += 4) {
    const p = predicted.data[i] >= 128
    const t = truth.data[i] >= 128
    const colour = p ? (t ? truePositive : falsePositive) : t ? falseNegative : null
    if (!colour) continue // TN: stays 0,0,0,0
    out[o] = colour[0]
    out[o + 1] = colour[1]
    out[o + 2] = colour[2]
    out[o + 3] = opacity
  }
  return { width: predicted.width, height: predicted.height, channels: 4, data: out }
}
