import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Raster } from '../../src/main/core/imaging/raster'
import { blendWeights, predictPhoto, tilePositions, type Predictor } from '../../src/main/core/model/tiling'
import { seededRandom } from '../../src/shared/random'

// Fake predictors: deterministic and translation-equivariant, so tiled and whole-image results can be compared.
// What is tested is the tiling, cutting and blending, not a model.

/** Greenness of each pixel alone: p = sigmoid(6·(g − (r + b)/2)). */
function greenness(rgb: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height)
  for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-6 * (rgb[3 * i + 1] - (rgb[3 * i] + rgb[3 * i + 2]) / 2)))
  return out
}

/** Greenness averaged over a 5×5 window, with zeros beyond the image edge (like a 'same' convolution). */
function blurredGreenness(rgb: Float32Array, width: number, height: number): Float32Array {
  const g = greenness(rgb, width, height)
  const out = new Float32Array(width * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const yy = y + dy,
            xx = x + dx
          if (yy >= 0 && yy < height && xx >= 0 && xx < width) s += g[yy * width + xx]
        }
      }
      out[y * width + x] = s / 25
    }
  }
  return out
}

type ImageFunction = (rgb: Float32Array, width: number, height: number) => Float32Array

function fakePredictor(inputSize: number, f: ImageFunction, batches: number[] = []): Predictor {
  return {
    inputSize,
    async predictBatch(rgb, n) {
      batches.push(n)
      const tile = inputSize * inputSize
      const out = new Float32Array(n * tile)
      for (let t = 0; t < n; t++) out.set(f(rgb.subarray(t * tile * 3, (t + 1) * tile * 3), inputSize, inputSize), t * tile)
      return out
    }
  }
}

/** A photo with smooth colour gradients, green blobs and per-pixel noise, so any misplaced tile shows. */
function generatePhoto(width: number, height: number, seed = 1): Raster {
  const random = seededRandom(seed)
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const leaf = Math.sin(x / 13) * Math.cos(y / 17) > 0.2
      const o = 3 * (y * width + x)
      data[o] = Math.round(60 + 80 * (x / width) + 40 * random())
      data[o + 1] = Math.round((leaf ? 170 : 90) + 40 * random())
      data[o + 2] = Math.round(50 + 60 * (y / height) + 40 * random())
    }
  }
  return { width, height, channels: 3, data }
}

function wholeImage(photo: Raster, f: ImageFunction): Float32Array {
  return f(
    Float32Array.from(photo.data, (v) => v / 255),
    photo.width,
    photo.height
  )
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

test('tile positions cover the length with at least the requested overlap', () => {
  assert.deepEqual(tilePositions(64, 64, 0.25), [0])
  assert.deepEqual(tilePositions(40, 64, 0.25), [0])
  for (const [length, tile, overlap] of [
    [300, 64, 0.25],
    [2048, 256, 0.25],
    [1536, 256, 0.5],
    [257, 256, 0],
    [1000, 128, 0]
  ]) {
    const p = tilePositions(length, tile, overlap)
    assert.equal(p[0], 0)
    assert.equal(p[p.length - 1] + tile, length)
    for (let i = 1; i < p.length; i++) assert.ok(tile - (p[i] - p[i - 1]) >= Math.floor(tile * overlap), `${length}/${tile}/${overlap}: ${p}`)
  }
})

test('blending weights are never 0 and crossing ramps add up to 1', () => {
  const w = blendWeights(64, 16)
  assert.ok(w[0] > 0 && w[0] < 0.01)
  assert.equal(w[32], 1)
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(w[48 + i] + w[i] - 1) < 1e-6)
})

test('with a per-pixel predictor, tiled prediction equals whole-image prediction everywhere', async () => {
  const photo = generatePhoto(300, 211)
  const expected = wholeImage(photo, greenness)
  for (const overlap of [0, 0.25, 0.5]) {
    const got = await predictPhoto(fakePredictor(64, greenness), photo, { overlap })
    assert.deepEqual([got.width, got.height], [300, 211])
    assert.ok(maxDifference(got.data, expected) < 1e-6, `overlap ${overlap}`)
  }
})

/** How far a tiled local-filter prediction strays from the whole-image one, away from and near tile edges. */
async function seamErrors(photo: Raster, size: number, overlap: number): Promise<{ far: number; near: number; step: number }> {
  const expected = wholeImage(photo, blurredGreenness)
  const got = (await predictPhoto(fakePredictor(size, blurredGreenness), photo, { overlap })).data
  const xs = tilePositions(photo.width, size, overlap)
  const ys = tilePositions(photo.height, size, overlap)
  // A tile's edge effect reaches 2 pixels in from each of its edges that lies inside the photo.
  const nearSeam = (p: number, starts: number[], length: number): boolean =>
    starts.some((s) => (s > 0 && p >= s && p < s + 2) || (s + size < length && p >= s + size - 2 && p < s + size))
  let far = 0
  let near = 0
  for (let y = 0; y < photo.height; y++) {
    for (let x = 0; x < photo.width; x++) {
      const d = Math.abs(got[y * photo.width + x] - expected[y * photo.width + x])
      if (nearSeam(x, xs, photo.width) || nearSeam(y, ys, photo.height)) near = Math.max(near, d)
      else far = Math.max(far, d)
    }
  }
  // Step: the jump between neighbouring pixels across each inner vertical tile edge, minus the whole image's jump.
  let step = 0
  for (const s of xs.flatMap((x) => [x, x + size]).filter((x) => x > 0 && x < photo.width)) {
    for (let y = 0; y < photo.height; y++) {
      const i = y * photo.width + s
      step = Math.max(step, Math.abs(got[i] - got[i - 1] - (expected[i] - expected[i - 1])))
    }
  }
  return { far, near, step }
}

test('with a local filter, tiled prediction equals the whole image away from seams and has no step at them', async () => {
  const photo = generatePhoto(301, 203, 2)
  const blended = await seamErrors(photo, 64, 0.25)
  assert.ok(blended.far < 1e-6, `away from seams: ${blended.far}`)
  // Without overlap each tile's zero-padded edge shows as a seam; the check below must see it.
  const hardCut = await seamErrors(photo, 64, 0)
  assert.ok(hardCut.near > 0.1 && hardCut.step > 0.1, `hard cut: ${JSON.stringify(hardCut)}`)
  // Blended, what is left is a tenth of that or less (measured: near 0.008 vs 0.33 hard cut, step 0.0012 vs 0.19).
  assert.ok(blended.near < 0.01 && blended.near < hardCut.near / 10, `near seams: ${blended.near} (hard cut ${hardCut.near})`)
  assert.ok(blended.step < 0.01 && blended.step < hardCut.step / 10, `step at tile edges: ${blended.step} (hard cut ${hardCut.step})`)
})

test('photos smaller than the input are mirrored, not enlarged; a 1-pixel photo works', async () => {
  const photo = generatePhoto(40, 23, 3)
  const got = await predictPhoto(fakePredictor(64, greenness), photo)
  assert.deepEqual([got.width, got.height], [40, 23])
  assert.ok(maxDifference(got.data, wholeImage(photo, greenness)) < 1e-6)
  let seen: Float32Array | undefined
  const tiny = await predictPhoto({ inputSize: 8, predictBatch: async (rgb, n) => ((seen = rgb.slice()), greenness(rgb, 8, 8 * n)) }, generatePhoto(1, 1))
  assert.equal(tiny.data.length, 1)
  assert.ok(
    seen!.every((v, i) => v === seen![i % 3]),
    'the one pixel fills the whole tile'
  )
  // One side longer than the input, the other shorter.
  const wide = generatePhoto(150, 30, 4)
  const wideGot = await predictPhoto(fakePredictor(64, greenness), wide)
  assert.ok(maxDifference(wideGot.data, wholeImage(wide, greenness)) < 1e-6)
})

test('4-channel photos ignore alpha', async () => {
  const rgb = generatePhoto(70, 50, 5)
  const rgba = new Uint8Array(70 * 50 * 4)
  for (let i = 0; i < 70 * 50; i++) rgba.set([...rgb.data.subarray(3 * i, 3 * i + 3), 7], 4 * i)
  const a = await predictPhoto(fakePredictor(32, greenness), rgb)
  const b = await predictPhoto(fakePredictor(32, greenness), { width: 70, height: 50, channels: 4, data: rgba })
  assert.deepEqual(b.data, a.data)
})

test('resize mode and working scale give full-size maps close to the per-pixel truth on a smooth photo', async () => {
  // Smooth photo: resizing changes little, so both must land near the per-pixel answer.
  const width = 240,
    height = 160
  const data = new Uint8Array(width * height * 3)
  for (let i = 0; i < width * height; i++) {
    const x = i % width,
      y = Math.floor(i / width)
    data.set([100, Math.round(128 + 100 * Math.sin(x / 40) * Math.cos(y / 30)), 100], 3 * i)
  }
  const photo: Raster = { width, height, channels: 3, data }
  const expected = wholeImage(photo, greenness)
  const batches: number[] = []
  const resized = await predictPhoto(fakePredictor(64, greenness, batches), photo, { mode: 'resize' })
  assert.deepEqual([resized.width, resized.height, batches.join()], [width, height, '1'])
  assert.ok(maxDifference(resized.data, expected) < 0.06, `resize mode: ${maxDifference(resized.data, expected)}`)
  const halved = await predictPhoto(fakePredictor(64, greenness), photo, { scale: 0.5 })
  assert.deepEqual([halved.width, halved.height], [width, height])
  assert.ok(maxDifference(halved.data, expected) < 0.03, `scale 0.5: ${maxDifference(halved.data, expected)}`)
})

test('tiles go to the predictor in batches, with progress, and a cancel stops it', async () => {
  const photo = generatePhoto(300, 200, 6)
  const tileCount = tilePositions(300, 64, 0.25).length * tilePositions(200, 64, 0.25).length
  const batches: number[] = []
  const progress: number[][] = []
  await predictPhoto(fakePredictor(64, greenness, batches), photo, { batchSize: 5, onProgress: (done, total) => progress.push([done, total]) })
  assert.equal(
    batches.reduce((a, b) => a + b, 0),
    tileCount
  )
  assert.ok(batches.slice(0, -1).every((n) => n === 5))
  assert.deepEqual(progress[0], [0, tileCount])
  assert.deepEqual(progress[progress.length - 1], [tileCount, tileCount])

  const controller = new AbortController()
  const cancelled: number[] = []
  await assert.rejects(
    predictPhoto(fakePredictor(64, greenness, cancelled), photo, {
      batchSize: 5,
      signal: controller.signal,
      onProgress: (done) => done > 0 && controller.abort()
    }),
    { name: 'AbortError' }
  )
  assert.deepEqual(cancelled, [5])
})

test('bad input and a misbehaving model get clear messages', async () => {
  const photo = generatePhoto(10, 10)
  await assert.rejects(predictPhoto({ inputSize: 8, predictBatch: async () => new Float32Array(3) }, photo, { photo: 'a.jpg' }), /a\.jpg.*returned 3 values/)
  await assert.rejects(predictPhoto(fakePredictor(8, greenness), { ...photo, channels: 1 }, { photo: 'b.png' }), /b\.png is a gray image/)
  await assert.rejects(predictPhoto(fakePredictor(8, greenness), photo, { overlap: 0.9 }), /overlap/)
})
