import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ERROR_COLOURS, errorOverlay, type Rgb } from '../../src/main/core/evaluation/errors'
import type { Raster } from '../../src/main/core/imaging/raster'

const gray = (width: number, height: number, values: number[]): Raster => ({ width, height, channels: 1, data: Uint8Array.from(values) })

test('each pixel gets the colour of its outcome and TN stays transparent', () => {
  // pixel: TP, FP, FN, TN
  const overlay = errorOverlay(gray(4, 1, [255, 255, 0, 0]), gray(4, 1, [255, 0, 255, 0]), { opacity: 200 })
  assert.equal(overlay.channels, 4)
  const px = (i: number): number[] => Array.from(overlay.data.subarray(i * 4, i * 4 + 4))
  assert.deepEqual(px(0), [...ERROR_COLOURS.truePositive, 200])
  assert.deepEqual(px(1), [...ERROR_COLOURS.falsePositive, 200])
  assert.deepEqual(px(2), [...ERROR_COLOURS.falseNegative, 200])
  assert.deepEqual(px(3), [0, 0, 0, 0])
})

test('masks of different sizes are refused with the photo named', () => {
  assert.throws(() => errorOverlay(gray(2, 1, [0, 0]), gray(1, 2, [0, 0]), { photo: 'vine_7.jpg' }), /vine_7\.jpg.*2×1.*1×2/)
})

// Machado, Oliveira & Fernandes (2009), severity 1.0, applied in linear RGB.
const simulations: Record<string, number[][]> = {
  normal: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1]
  ],
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998]
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881]
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039]
  ]
}
const toLinear = (c: number): number => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
function lab(rgb: Rgb, m: number[][]): number[] {
  const lin = rgb.map(toLinear)
  const s = m.map((row) => Math.min(1, Math.max(0, row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])))
  const xyz = [
    (0.4124 * s[0] + 0.3576 * s[1] + 0.1805 * s[2]) / 0.95047,
    0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2],
    (0.0193 * s[0] + 0.1192 * s[1] + 0.9505 * s[2]) / 1.08883
  ]
  const f = xyz.map((v) => (v > 216 / 24389 ? Math.cbrt(v) : ((24389 / 27) * v + 16) / 116))
  return [116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])]
}

function smallestDifference(colours: Rgb[]): { deltaE: number; where: string } {
  let smallest = { deltaE: Infinity, where: '' }
  for (const [vision, matrix] of Object.entries(simulations)) {
    for (let a = 0; a < colours.length; a++) {
      for (let b = a + 1; b < colours.length; b++) {
        const [la, lb] = [lab(colours[a], matrix), lab(colours[b], matrix)]
        const deltaE = Math.hypot(la[0] - lb[0], la[1] - lb[1], la[2] - lb[2])
        if (deltaE < smallest.deltaE) smallest = { deltaE, where: `colours ${a} and ${b} under ${vision}` }
      }
    }
  }
  return smallest
}

test('TP, FP and FN colours stay apart (CIELAB ΔE > 30) under simulated colour blindness', () => {
  const { truePositive, falsePositive, falseNegative } = ERROR_COLOURS
  const ours = smallestDifference([truePositive, falsePositive, falseNegative])
  assert.ok(ours.deltaE > 30, `ΔE ${ours.deltaE.toFixed(1)} for ${ours.where}`)
  // The check is strict enough to reject a green/red/blue palette (green and red merge under deuteranopia).
  assert.ok(
    smallestDifference([
      [0, 200, 0],
      [255, 0, 0],
      [0, 0, 255]
    ]).deltaE < 30
  )
})
