import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Raster } from '../../src/main/core/imaging/raster'
import { measureLeaves } from '../../src/main/core/prediction/measure'

function maskWith(width: number, height: number, rectangles: [number, number, number, number][]): Raster {
  const data = new Uint8Array(width * height)
  for (const [left, top, w, h] of rectangles) {
    for (let y = top; y < top + h; y++) data.fill(255, y * width + left, y * width + left + w)
  }
  return { width, height, channels: 1, data }
}

// 40×30 mask: a 10×8 leaf, a 5×5 leaf, two 3×3 squares touching only at a corner (one leaf with 8-connectivity),
// and two specks of 1 and 2 pixels.
const mask = maskWith(40, 30, [
  [1, 1, 10, 8],
  [20, 2, 5, 5],
  [5, 15, 3, 3],
  [8, 18, 3, 3],
  [30, 25, 1, 1],
  [35, 20, 2, 1]
])

test('every component counts by default; diagonal neighbours join (8-connectivity)', () => {
  const m = measureLeaves(mask)
  assert.equal(m.leafCount, 5)
  assert.deepEqual(
    m.leaves.map((l) => l.areaPx),
    [80, 25, 18, 2, 1]
  )
  assert.equal(m.areaPx, 80 + 25 + 18 + 2 + 1)
  assert.equal(m.foregroundFraction, 126 / 1200)
  assert.equal(m.noisePx, 0)
  assert.equal(m.areaMm2, null)
  assert.deepEqual(m.leaves[2], { areaPx: 18, areaMm2: null, left: 5, top: 15, width: 6, height: 6 })
})

test('components under the minimum are noise: not counted, not in the area, reported apart', () => {
  const m = measureLeaves(mask, { minLeafAreaPx: 10, pixelsPerMm: 2 })
  assert.equal(m.leafCount, 3)
  assert.equal(m.areaPx, 123)
  assert.equal(m.noisePx, 3)
  assert.equal(m.areaMm2, 123 / 4)
  assert.equal(m.leaves[0].areaMm2, 20)
  assert.equal(m.foregroundFraction, 123 / 1200)
  assert.equal(m.minLeafAreaPx, 10)
  assert.equal(m.pixelsPerMm, 2)
})

test('an empty mask, a full mask, and grey values split at 128', () => {
  const empty = measureLeaves(maskWith(5, 4, []))
  assert.deepEqual([empty.leafCount, empty.areaPx, empty.foregroundFraction, empty.leaves], [0, 0, 0, []])
  const full = measureLeaves(maskWith(5, 4, [[0, 0, 5, 4]]))
  assert.deepEqual([full.leafCount, full.areaPx, full.foregroundFraction], [1, 20, 1])
  const grey = measureLeaves({ width: 4, height: 1, channels: 1, data: Uint8Array.from([127, 0, 128, 200]) })
  assert.deepEqual([grey.leafCount, grey.areaPx], [1, 2])
})

test('bad input names the mask and says what is wrong', () => {
  assert.throws(() => measureLeaves({ ...mask, channels: 3 }, { photo: 'leaf_3.png' }), /leaf_3\.png must be a one-channel/)
  assert.throws(() => measureLeaves(mask, { pixelsPerMm: 0 }), /pixels per millimetre/)
  assert.throws(() => measureLeaves(mask, { minLeafAreaPx: -1 }), /minimum leaf area/)
})
