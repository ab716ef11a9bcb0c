import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closedFormMatte, alphaToBytes, buildMattingSystem } from '../../src/main/core/matting/closedForm'

// A photo made from a known alpha: a leaf colour over a background colour with a soft, wavy edge,
// both colours drifting slowly across the photo (the colour-line model closed-form matting assumes).
function softEdgePhoto(width: number, height: number) {
  const alpha = new Float32Array(width * height)
  const rgb = new Uint8Array(width * height * 3)
  const trimap = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const edge = width / 2 + 6 * Math.sin(y / 7)
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      const t = (x - edge) / 8 // 8-pixel soft ramp
      const a = t <= -0.5 ? 0 : t >= 0.5 ? 1 : 0.5 + t
      alpha[p] = a
      const fg = [40 + y, 150 + x / 4, 30]
      const bg = [200, 180 - y / 2, 140 + x / 3]
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round(a * fg[c] + (1 - a) * bg[c])
      const distance = x - edge
      trimap[p] = distance < -14 ? 0 : distance > 14 ? 255 : 128
    }
  }
  return { alpha, rgb, trimap }
}

test('closed-form matting recovers a known soft edge', () => {
  const width = 72
  const height = 56
  const { alpha: truth, rgb, trimap } = softEdgePhoto(width, height)
  const result = closedFormMatte(rgb, trimap, width, height)
  assert.equal(result.alpha.length, width * height)
  let sum = 0
  let worst = 0
  let unknown = 0
  for (let p = 0; p < truth.length; p++) {
    if (trimap[p] === 0) assert.equal(result.alpha[p], 0)
    else if (trimap[p] === 255) assert.equal(result.alpha[p], 1)
    else {
      const e = Math.abs(result.alpha[p] - truth[p])
      sum += e
      worst = Math.max(worst, e)
      unknown++
    }
  }
  assert.equal(result.unknownPixels, unknown)
  assert.ok(sum / unknown < 0.01, `mean error ${sum / unknown}`)
  assert.ok(worst < 0.06, `worst error ${worst}`)
  assert.ok(result.relativeResidual <= 5e-6)
})

test('the matting system is symmetric', () => {
  const { rgb, trimap } = softEdgePhoto(30, 24)
  const { matrix } = buildMattingSystem(rgb, trimap, 30, 24, 1e-7)
  const entry = (r: number, c: number): number => {
    for (let k = matrix.rowStart[r]; k < matrix.rowStart[r + 1]; k++) if (matrix.columns[k] === c) return matrix.values[k]
    return 0
  }
  for (let r = 0; r < matrix.size; r++)
    for (let k = matrix.rowStart[r]; k < matrix.rowStart[r + 1]; k++) {
      assert.ok(Math.abs(matrix.values[k] - entry(matrix.columns[k], r)) < 1e-9 * (1 + Math.abs(matrix.values[k])))
    }
})

test('alphaToBytes rounds and clamps', () => {
  assert.deepEqual(alphaToBytes(new Float32Array([0, 1, 0.5, -0.2, 1.3, 0.002])), new Uint8Array([0, 255, 128, 0, 255, 1]))
})

test('closed-form matting rejects bad input in plain words and honours abort', () => {
  const { rgb, trimap } = softEdgePhoto(20, 16)
  const bad = trimap.slice()
  bad[5] = 100
  assert.throws(() => closedFormMatte(rgb, bad, 20, 16), /values other than 0 .* 100 \(1 pixel\)/)
  assert.throws(() => closedFormMatte(rgb.subarray(3), trimap, 20, 16), /the photo has 957 bytes/)
  assert.throws(() => closedFormMatte(rgb, new Uint8Array(320).fill(128), 20, 16), /no leaf \(255\) or background \(0\) pixels/)
  const controller = new AbortController()
  controller.abort()
  assert.throws(() => closedFormMatte(rgb, trimap, 20, 16, { signal: controller.signal }), { name: 'AbortError' })
})
