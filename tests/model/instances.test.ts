// Leaves as a network learns them (each leaf's normalised distance to its border) and back (a seeded watershed),
// on hand-made leaves: the centres drawn from true leaves decode back to those leaves.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { leafCentres, leafWeights, separateLeaves, labelComponents } from '../../src/main/core/model/instances'
import { instanceScores } from '../../src/main/core/evaluation/instances'

/** Leaf ids drawn by `leafAt` (0 = background) on a width×height image. */
function draw(width: number, height: number, leafAt: (x: number, y: number) => number): Uint16Array {
  const ids = new Uint16Array(width * height)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) ids[y * width + x] = leafAt(x, y)
  return ids
}

/** A prediction as a perfect network would give it: leaf probability 1 on the leaves, their centres as the second map. */
function perfectPrediction(ids: Uint16Array, width: number, height: number) {
  return { width, height, data: Float32Array.from(ids, (id) => (id ? 1 : 0)), centre: leafCentres(ids, width, height) }
}

/** Encode, decode, and score against the drawn leaves. */
function roundTrip(ids: Uint16Array, width: number, height: number) {
  const leaves = separateLeaves(perfectPrediction(ids, width, height))
  return { leaves, scores: instanceScores(leaves.ids, ids) }
}

// Two discs of radius 10 that overlap: each pixel goes to the nearer centre.
const TOUCHING = {
  width: 48,
  height: 28,
  ids: draw(48, 28, (x, y) => {
    const a = Math.hypot(x - 14, y - 14)
    const b = Math.hypot(x - 32, y - 14)
    return a > 10 && b > 10 ? 0 : a <= b ? 1 : 2
  })
}

test('each leaf centre peaks at 1 in its middle and falls to its edges and to the seam with a touching leaf', () => {
  const { width, ids } = TOUCHING
  const centre = leafCentres(ids, width, TOUCHING.height)
  assert.ok(centre[14 * width + 14] > 0.9, `left disc middle ${centre[14 * width + 14]}`)
  assert.ok(centre[14 * width + 32] > 0.9, `right disc middle ${centre[14 * width + 32]}`)
  assert.ok(centre[14 * width + 23] < 0.2, `on the seam ${centre[14 * width + 23]}`)
  assert.ok(centre[14 * width + 4] < 0.2, `at the left edge ${centre[14 * width + 4]}`)
  assert.equal(centre[0], 0, 'background')
  for (const v of centre) assert.ok(v >= 0 && v <= 1)
})

test("the centre loss's weights favour a small leaf and the seam where it touches a large one, and leave background at 1", () => {
  const width = 40
  const height = 32
  // A large disc (radius 12, leaf 2) and a small one (radius 4, leaf 1) pressed against its right side.
  const ids = draw(width, height, (x, y) => (Math.hypot(x - 31, y - 16) <= 4 ? 1 : Math.hypot(x - 16, y - 16) <= 12 ? 2 : 0))
  const weight = leafWeights(ids, width, height)
  const at = (x: number, y: number) => weight[y * width + x]
  assert.equal(ids[16 * width + 27], 1)
  assert.equal(ids[16 * width + 26], 2)
  // Interiors: the large leaf's middle weighs about 1, the small leaf's middle several times that.
  assert.ok(at(16, 16) < 1.01, `large leaf middle ${at(16, 16)}`)
  assert.ok(at(31, 16) > 4, `small leaf middle ${at(31, 16)}`)
  // The seam: the large leaf's pixel against the small one weighs more than its middle, and the small leaf's pixel
  // against the large one more than its far edge.
  assert.ok(at(26, 16) > at(16, 16) + 3, `large leaf at the seam ${at(26, 16)}`)
  assert.ok(at(27, 16) > at(35, 16) + 3, `small leaf at the seam ${at(27, 16)}, at its far edge ${at(35, 16)}`)
  // Background: 1 away from any seam, next to one leaf or far from all.
  assert.equal(at(0, 0), 1)
  assert.equal(at(16, 2), 1)
  assert.equal(at(39, 16), 1)
  for (const v of weight) assert.ok(v >= 1 && v <= 10 + 5)
})

test('two touching leaves decode back as two, each pixel with its own leaf', () => {
  const { leaves, scores } = roundTrip(TOUCHING.ids, TOUCHING.width, TOUCHING.height)
  assert.equal(leaves.count, 2)
  assert.ok(scores.sbd > 0.95, `SBD ${scores.sbd}`)
})

test('a leaf inside the convex hull of another (a crescent around a disc) decodes back as two', () => {
  const width = 64
  const height = 64
  // A disc of radius 12 in the middle, and a crescent: the ring from radius 14 to 26 around it, less its right third.
  const ids = draw(width, height, (x, y) => {
    const r = Math.hypot(x - 32, y - 32)
    if (r <= 12) return 1
    if (r >= 14 && r <= 26 && x < 44) return 2
    return 0
  })
  // The gap of two pixels closes in the prediction (the network sees them touching): the leaf map covers it.
  const prediction = perfectPrediction(ids, width, height)
  for (let i = 0; i < ids.length; i++) {
    const r = Math.hypot((i % width) - 32, Math.floor(i / width) - 32)
    if (r > 12 && r < 14) prediction.data[i] = 1
  }
  const leaves = separateLeaves(prediction)
  assert.equal(leaves.count, 2)
  const scores = instanceScores(leaves.ids, ids)
  assert.ok(scores.sbd > 0.9, `SBD ${scores.sbd}`)
})

test('a thin elongated leaf touching a round one decodes back as two, the thin one whole', () => {
  const width = 80
  const height = 40
  // A blade 3 px wide and 50 long, its tip against a disc of radius 12.
  const ids = draw(width, height, (x, y) => {
    if (Math.hypot(x - 62, y - 20) <= 12) return 2
    if (x >= 2 && x < 51 && Math.abs(y - 20) <= 1) return 1
    return 0
  })
  const { leaves, scores } = roundTrip(ids, width, height)
  assert.equal(leaves.count, 2)
  assert.ok(scores.sbd > 0.95, `SBD ${scores.sbd}`)
})

test('a leaf cut by the photo edge keeps rising towards the edge instead of seeing a border there', () => {
  const width = 20
  const height = 10
  const ids = draw(width, height, (x) => (x < 10 ? 1 : 0))
  const centre = leafCentres(ids, width, height)
  assert.equal(centre[5 * width], 1)
  assert.ok(centre[5 * width + 9] < 0.2)
})

test('without centres the touching discs are one leaf, and a speck of leaf is no leaf', () => {
  const { width, height, ids } = TOUCHING
  const prediction = perfectPrediction(ids, width, height)
  prediction.centre.fill(0.2)
  prediction.data[2 * width + 46] = 1 // one pixel apart from the discs
  const leaves = separateLeaves(prediction)
  assert.equal(leaves.count, 1)
  assert.equal(leaves.ids[2 * width + 46], 0)
  assert.equal(labelComponents(width * height, width, (i) => leaves.ids[i] > 0).sizes.size, 1)
})

test('maps of the wrong size, or a prediction without centres, are refused', () => {
  assert.throws(() => separateLeaves({ width: 2, height: 2, data: new Float32Array(4), centre: new Float32Array(3) }), /must have 4 values/)
  assert.throws(() => separateLeaves({ width: 2, height: 2, data: new Float32Array(4) }), /does not separate leaves/)
})

test("a leaf run's own seed level is applied by rescaling its centre map, so the decoder's level finds its seeds", async () => {
  const { fullResolution } = await import('../../src/main/core/model/tiling')
  const meta = {
    inputSize: 2,
    baseFilters: 1,
    depth: 1,
    sampling: { mode: 'whole' as const },
    loss: 'bce',
    epoch: 1,
    validationIoU: 1,
    instances: true,
    leafMap: 'centre' as const
  }
  // A network whose centre channel peaks at 0.3: below SEED_LEVEL, at the level its run chose.
  const model = { inputSize: 2, meta: { ...meta, seedLevel: 0.3 }, predictBatch: async () => Float32Array.from([1, 0.3, 1, 0.15, 1, 0.15, 1, 0.6]) }
  const { predictor } = fullResolution(model)
  assert.deepEqual(
    Array.from(await predictor.predictBatch(new Float32Array(12), 1)).map((v) => +v.toFixed(3)),
    [1, 0.5, 1, 0.25, 1, 0.25, 1, 1]
  )
  const plain = fullResolution({ ...model, meta })
  assert.deepEqual(
    Array.from(await plain.predictor.predictBatch(new Float32Array(12), 1)).map((v) => +v.toFixed(3)),
    [1, 0.3, 1, 0.15, 1, 0.15, 1, 0.6]
  )
})
