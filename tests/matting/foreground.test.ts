import { test } from 'node:test'
import assert from 'node:assert/strict'
import { estimateForeground, makeCutout } from '../../src/main/core/matting/foreground'

// Leaf colour F over background colour B with a soft ramp; the estimate should recover F in the ramp,
// where the photo itself shows a mix.
function blend(width: number, height: number) {
  const F = [0.2, 0.7, 0.1]
  const B = [0.9, 0.85, 0.8]
  const alpha = new Float32Array(width * height)
  const rgb = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      const a = Math.min(1, Math.max(0, (x - width / 2) / 12 + 0.5))
      alpha[p] = a
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round((a * F[c] + (1 - a) * B[c]) * 255)
    }
  return { F, B, alpha, rgb }
}

test('multilevel foreground estimation recovers the leaf colour at a soft edge', () => {
  const width = 64
  const height = 40
  const { F, B, alpha, rgb } = blend(width, height)
  const { foreground, background } = estimateForeground(rgb, alpha, width, height)
  let worstF = 0
  let worstPhoto = 0
  for (let p = 0; p < width * height; p++) {
    if (alpha[p] < 0.3 || alpha[p] > 0.9) continue
    for (let c = 0; c < 3; c++) {
      worstF = Math.max(worstF, Math.abs(foreground[3 * p + c] - F[c]))
      worstPhoto = Math.max(worstPhoto, Math.abs(rgb[3 * p + c] / 255 - F[c]))
    }
  }
  assert.ok(worstF < 0.03, `foreground error ${worstF}`)
  assert.ok(worstPhoto > 0.3) // the photo alone is far off there, so the test means something
  const p = 20 * width + 20 // sure background
  assert.ok(Math.abs(background[3 * p] - B[0]) < 0.01)
})

test('a cutout carries alpha as transparency and the chosen colours', () => {
  const rgb = new Uint8Array([10, 20, 30, 40, 50, 60])
  const alpha = new Float32Array([0, 0.5])
  const plain = makeCutout(rgb, alpha, 2, 1)
  assert.deepEqual(Array.from(plain.data), [10, 20, 30, 0, 40, 50, 60, 128])
  const coloured = makeCutout(rgb, alpha, 2, 1, new Float32Array([0, 0, 0, 1, 0.5, 0]))
  assert.deepEqual(Array.from(coloured.data), [0, 0, 0, 0, 255, 128, 0, 128])
  assert.throws(() => makeCutout(rgb, new Float32Array(3), 2, 1), /alpha matte has 3 pixels/)
})
