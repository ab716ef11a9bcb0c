// Leaves from leaf and touching-band probabilities (seeded watershed), on drawn maps.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { separateLeaves } from '../../src/main/core/model/instances'

/** Two discs of radius 10 whose edges overlap, on a 48×28 image; the band is where they are both within 1.5 px of the other. */
function touchingDiscs() {
  const width = 48
  const height = 28
  const leaf = new Float32Array(width * height)
  const band = new Float32Array(width * height)
  const truth = new Uint8Array(width * height)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const a = Math.hypot(x - 14, y - 14)
      const b = Math.hypot(x - 32, y - 14)
      const i = y * width + x
      if (a <= 10 || b <= 10) {
        leaf[i] = 0.9
        truth[i] = a <= b ? 1 : 2
        if (Math.abs(a - b) <= 3) band[i] = 0.8
      }
    }
  return { width, height, leaf, band, truth }
}

test('two touching discs split along the band come out as two leaves, each pixel with its own disc', () => {
  const { width, height, leaf, band, truth } = touchingDiscs()
  const leaves = separateLeaves(leaf, band, width, height)
  assert.equal(leaves.count, 2)
  const idOfLeft = leaves.ids[14 * width + 8]
  const idOfRight = leaves.ids[14 * width + 38]
  assert.notEqual(idOfLeft, idOfRight)
  let wrong = 0
  let leafPixels = 0
  for (let i = 0; i < truth.length; i++) {
    if (!truth[i]) {
      assert.equal(leaves.ids[i], 0)
      continue
    }
    leafPixels++
    if (leaves.ids[i] !== (truth[i] === 1 ? idOfLeft : idOfRight)) wrong++
  }
  // Only pixels on the crest between the discs may go either way.
  assert.ok(wrong <= height, `${wrong} of ${leafPixels} pixels went to the wrong disc`)
})

test('without a band the same discs are one leaf, and a speck of leaf is no leaf', () => {
  const { width, height, leaf } = touchingDiscs()
  leaf[2 * width + 46] = 0.9 // one pixel apart from the discs
  const leaves = separateLeaves(leaf, new Float32Array(width * height), width, height)
  assert.equal(leaves.count, 1)
  assert.equal(leaves.ids[2 * width + 46], 0)
})

test('a leaf wholly covered by band still counts as one leaf', () => {
  const width = 20
  const height = 20
  const leaf = new Float32Array(width * height)
  const band = new Float32Array(width * height)
  for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) (leaf[y * width + x] = 1), (band[y * width + x] = 0.9)
  const leaves = separateLeaves(leaf, band, width, height)
  assert.equal(leaves.count, 1)
  assert.equal(leaves.ids[10 * width + 10], 1)
})

test('maps of the wrong size are refused', () => {
  assert.throws(() => separateLeaves(new Float32Array(4), new Float32Array(3), 2, 2), /must have 4 values/)
})
