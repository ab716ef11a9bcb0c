// The assist's memory and reproducibility: GrabCut over large photos again and again keeps opencv-wasm's heap
// flat and answers every request; the same request gives the same proposal whatever came before it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GrabCutAssist } from '../../src/main/core/labelling/grabcut'
import { opencv } from '../../src/main/core/imaging/opencv'
import { TrimapMaker } from '../../src/main/core/matting/trimap'
import { iou, leafPhoto } from '../helpers/leaf-photo'

/** A 4000×3000 photo: soil with a little noise and a square leaf; `seed` varies the noise. */
function largePhoto(seed: number): { width: number; height: number; channels: 3; data: Uint8Array } {
  const W = 4000
  const H = 3000
  const data = new Uint8Array(W * H * 3)
  let s = seed
  for (let i = 0; i < data.length; i += 3) {
    s = (s * 16807) % 2147483647
    const n = s % 9
    data[i] = 120 + n
    data[i + 1] = 90 + n
    data[i + 2] = 60 + n
  }
  for (let y = 1000; y < 2000; y++) for (let x = 1500; x < 2600; x++) data.set([50, 150, 45], (y * W + x) * 3)
  return { width: W, height: H, channels: 3, data }
}

test('12 assists alternating two 4000×3000 photos, boxes over most of each: every one answers, the wasm heap stops growing', () => {
  const cv = opencv()
  const photos = [largePhoto(3), largePhoto(11)]
  const heap: number[] = []
  for (let i = 0; i < 12; i++) {
    // a new photo each time, as the service does when the person moves on; a smaller working size keeps the test quick
    const assist = new GrabCutAssist(photos[i % 2], 60_000)
    try {
      const box = { x: 100 + i, y: 100, width: 3700, height: 2800 }
      const mask = assist.propose({ box }, [
        { x: 2000, y: 1500, leaf: true },
        { x: 500, y: 500, leaf: false }
      ])
      assert.equal(mask.length, 4000 * 3000, `request ${i + 1}`)
      assert.equal(mask[1500 * 4000 + 2000], 255, `request ${i + 1}: the leaf is proposed`)
      assert.equal(mask[500 * 4000 + 500], 0, `request ${i + 1}: the soil is not`)
    } finally {
      assist.dispose()
    }
    heap.push(cv.HEAP8.buffer.byteLength)
  }
  assert.equal(heap[11], heap[3], `the heap grew from ${heap[3]} to ${heap[11]} bytes after the first four assists`)
})

test('an assist that fails (a click outside the photo, a box too small) leaves no state behind and the next one works', () => {
  const photo = leafPhoto(160, 120, { weed: true })
  const assist = new GrabCutAssist({ width: 160, height: 120, channels: 3, data: photo.rgb })
  try {
    assert.throws(() => assist.propose({ box: { x: 10, y: 10, width: 1, height: 1 } }, []), /The box is too small/)
    assert.throws(() => assist.propose({ box: photo.box }, [{ x: 500, y: 5, leaf: true }]), /outside the 160×120 photo/)
    assert.ok(iou(assist.propose({ box: photo.box }, []), photo.truth) >= 0.8)
  } finally {
    assist.dispose()
  }
})

test('the same assist request gives the same proposal, whatever requests came before it', () => {
  const photo = leafPhoto(200, 160, { weed: true, seed: 17 })
  const other = leafPhoto(180, 140, { seed: 5 })
  const rgb = { width: photo.width, height: photo.height, channels: 3 as const, data: photo.rgb }
  const request = { box: photo.box, clicks: [{ x: photo.weed!.x, y: photo.weed!.y, leaf: false }] }
  const fresh = () => {
    const assist = new GrabCutAssist(rgb)
    try {
      return assist.propose({ box: request.box }, request.clicks)
    } finally {
      assist.dispose()
    }
  }
  const first = fresh()
  for (let round = 0; round < 5; round++) {
    // other requests in between: another photo, other boxes and clicks
    const between = new GrabCutAssist({ width: other.width, height: other.height, channels: 3, data: other.rgb })
    try {
      between.propose({ box: other.box }, [])
      between.propose({ box: { x: 5 + round, y: 5, width: 150, height: 120 } }, [{ x: 90, y: 70, leaf: true }])
    } finally {
      between.dispose()
    }
    assert.deepEqual(fresh(), first, `round ${round + 1}: the proposal changed after other requests`)
  }
})

test('trimaps alternating a 2400×1800 and a small mask, many times: each is made, the wasm heap stops growing', () => {
  const cv = opencv()
  const sizes = [
    [2400, 1800],
    [166, 190]
  ] as const
  const heap: number[] = []
  for (let i = 0; i < 12; i++) {
    const [w, h] = sizes[i % 2]
    const mask = new Uint8Array(w * h)
    for (let y = Math.floor(h / 4); y < (3 * h) / 4; y++) mask.fill(255, y * w + Math.floor(w / 4), y * w + Math.floor((3 * w) / 4))
    const maker = new TrimapMaker(w, h)
    try {
      const { stats } = maker.make(mask, { mode: 'auto' })
      assert.ok(stats.unknown > 0 && stats.foreground > 0, `trimap ${i + 1}`)
    } finally {
      maker.dispose()
    }
    heap.push(cv.HEAP8.buffer.byteLength)
  }
  assert.equal(heap[11], heap[3])
})
