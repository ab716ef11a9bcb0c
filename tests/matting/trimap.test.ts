import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeTrimap, TrimapMaker, TrimapError, validateTrimap, LEAF_THRESHOLD } from '../../src/main/core/matting/trimap'

// The definition, in plain loops: n erosions (dilations) by ones(k,k), window offsets -floor(k/2)..k-1-floor(k/2)
// on each axis, pixels outside the image ignored (so the border neither erodes nor dilates).
function morph(src: Uint8Array, w: number, h: number, k: number, iterations: number, pick: 'min' | 'max'): Uint8Array {
  let cur = src
  const lo = -Math.floor(k / 2)
  const hi = k - 1 + lo
  for (let it = 0; it < iterations; it++) {
    const next = new Uint8Array(w * h)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = pick === 'min' ? 255 : 0
        for (let dy = lo; dy <= hi; dy++) {
          const yy = y + dy
          if (yy < 0 || yy >= h) continue
          for (let dx = lo; dx <= hi; dx++) {
            const xx = x + dx
            if (xx < 0 || xx >= w) continue
            v = pick === 'min' ? Math.min(v, cur[yy * w + xx]) : Math.max(v, cur[yy * w + xx])
          }
        }
        next[y * w + x] = v
      }
    }
    cur = next
  }
  return cur
}

function directTrimap(mask: Uint8Array, w: number, h: number, k: number, fgIt: number, bgIt: number): Uint8Array {
  const binary = mask.map((v) => (v >= LEAF_THRESHOLD ? 255 : 0))
  const fg = morph(binary, w, h, k, fgIt, 'min')
  const grown = morph(binary, w, h, k, bgIt, 'max')
  return binary.map((_, i) => (fg[i] === 255 ? 255 : grown[i] === 0 ? 0 : 128))
}

// Deterministic pseudo-random masks: blobs, a leaf touching the border, thin stalks, noise specks.
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32
}

function generatedMask(w: number, h: number, seed: number): Uint8Array {
  const rand = rng(seed)
  const mask = new Uint8Array(w * h)
  for (let b = 0; b < 4; b++) {
    const cx = rand() * w
    const cy = rand() * h
    const rx = 3 + rand() * w * 0.4
    const ry = 3 + rand() * h * 0.4
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1) mask[y * w + x] = 255
  }
  const sx = Math.floor(rand() * w)
  for (let y = 0; y < h; y++) mask[y * w + sx] = 255 // a one-pixel stalk from edge to edge
  for (let i = 0; i < 30; i++) mask[Math.floor(rand() * w * h)] = rand() < 0.5 ? 0 : 200 // specks, and a non-255 leaf value
  return mask
}

test('trimap matches the plain-loop definition pixel for pixel (odd and even kernels, borders)', () => {
  const cases: Array<[number, number, number, number, number, number]> = [
    // w, h, k, fgIt, bgIt, seed
    [61, 47, 5, 5, 5, 1],
    [61, 47, 5, 2, 3, 2],
    [40, 33, 3, 1, 4, 3],
    [40, 33, 7, 0, 2, 4],
    [52, 38, 9, 1, 2, 5],
    [45, 50, 4, 2, 2, 6],
    [45, 50, 2, 3, 1, 7]
  ]
  let compared = 0
  for (const [w, h, k, fgIt, bgIt, seed] of cases) {
    const mask = generatedMask(w, h, seed)
    const expected = directTrimap(mask, w, h, k, fgIt, bgIt)
    if (!expected.includes(128)) continue
    if (!expected.includes(255)) {
      // Erosion removed the whole leaf: refused with a message rather than a trimap with no leaf.
      assert.throws(() => makeTrimap(mask, w, h, { kernelSize: k, fgIterations: fgIt, bgIterations: bgIt }), /no definite leaf/)
      compared++
      continue
    }
    const got = makeTrimap(mask, w, h, { kernelSize: k, fgIterations: fgIt, bgIterations: bgIt })
    let diff = 0
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) diff++
    assert.equal(diff, 0, `k=${k} fg=${fgIt} bg=${bgIt} seed=${seed}: ${diff} pixels differ`)
    compared++
  }
  assert.equal(compared, cases.length)
})

test('a leaf touching the image edge is not eroded by the edge', () => {
  const w = 30
  const h = 20
  const mask = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < 12; x++) mask[y * w + x] = 255 // leaf fills the left columns
  const trimap = makeTrimap(mask, w, h, { kernelSize: 3, fgIterations: 2, bgIterations: 2 })
  assert.equal(trimap[0], 255) // corner pixel stays definite leaf
  assert.equal(trimap[9], 255)
  assert.equal(trimap[10], 128)
  assert.equal(trimap[13], 128)
  assert.equal(trimap[14], 0)
  assert.deepEqual(new Set(trimap), new Set([0, 128, 255]))
})

test('defaults are k=5, 5 erosions, 5 dilations (a 10-pixel band on each side of the edge)', () => {
  const w = 80
  const h = 10
  const mask = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < 40; x++) mask[y * w + x] = 255
  const row = Array.from(makeTrimap(mask, w, h).subarray(0, w))
  assert.equal(row.lastIndexOf(255), 29)
  assert.equal(row.indexOf(0), 50)
})

test('a reused TrimapMaker gives the same result as a fresh one, across option changes', () => {
  const w = 64
  const h = 48
  const mask = generatedMask(w, h, 11)
  const maker = new TrimapMaker(w, h)
  try {
    for (const k of [5, 3, 4, 5]) {
      const { trimap, stats } = maker.make(mask, { kernelSize: k, fgIterations: 2, bgIterations: 3 })
      assert.deepEqual(trimap, makeTrimap(mask, w, h, { kernelSize: k, fgIterations: 2, bgIterations: 3 }))
      assert.equal(stats.foreground + stats.unknown + stats.background, w * h)
      assert.equal(stats.unknown, trimap.filter((v) => v === 128).length)
    }
  } finally {
    maker.dispose()
  }
})

test('clear errors: no leaf, empty unknown band, wrong size, bad options', () => {
  assert.throws(
    () => makeTrimap(new Uint8Array(100), 10, 10),
    (e: Error) => e instanceof TrimapError && /no leaf pixels/.test(e.message)
  )
  assert.throws(() => makeTrimap(new Uint8Array(100).fill(100), 10, 10, { kernelSize: 4, bgIterations: 0 }), /no leaf pixels/)
  assert.throws(() => makeTrimap(new Uint8Array(100).fill(255), 10, 10), /unknown band .* is empty/)
  assert.throws(() => makeTrimap(new Uint8Array(99), 10, 10), /99 pixels but 10×10 = 100/)
  assert.throws(() => makeTrimap(new Uint8Array(100).fill(255), 10, 10, { kernelSize: 0 }), /kernel size/)
  assert.throws(() => makeTrimap(new Uint8Array(100).fill(255), 10, 10, { fgIterations: -1 }), /erosion iterations/)
})

test('validateTrimap accepts 0/128/255 and names offending values', () => {
  const good = new Uint8Array([0, 128, 255, 128])
  assert.deepEqual(validateTrimap(good, 2, 2, 'trimap.png'), { foreground: 1, unknown: 2, background: 1 })
  assert.throws(
    () => validateTrimap(new Uint8Array([0, 127, 255, 127, 3, 128]), 3, 2, 'photo1_trimap.png'),
    (e: Error) => /photo1_trimap\.png/.test(e.message) && /3 \(1 pixel\)/.test(e.message) && /127 \(2 pixels\)/.test(e.message)
  )
  assert.throws(() => validateTrimap(good, 3, 2, 'x.png'), /x\.png has 4 pixels but the photo has 3×2 = 6/)
  assert.throws(() => validateTrimap(new Uint8Array([0, 255]), 2, 1, 'y.png'), /y\.png has no unknown/)
})

// Seedlings: small leaves a few pixels thick (komatsuna's are 4–20 px), where the seed's fixed values erase them.
function seedlingMask(w: number, h: number, leaves: { cx: number; cy: number; rx: number; ry: number }[]): Uint8Array {
  const mask = new Uint8Array(w * h)
  for (const { cx, cy, rx, ry } of leaves)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * w + x] = 255
  return mask
}

test("'auto' fits small leaves that the seed's fixed values erase, and every leaf keeps definite leaf pixels", () => {
  const w = 170
  const h = 170
  const cases = [
    [{ cx: 40, cy: 40, rx: 12, ry: 5 }],
    [
      { cx: 60, cy: 80, rx: 20, ry: 8 },
      { cx: 120, cy: 60, rx: 6, ry: 3 }
    ],
    [
      { cx: 85, cy: 85, rx: 9, ry: 9 },
      { cx: 30, cy: 130, rx: 25, ry: 2 }
    ],
    [{ cx: 20, cy: 20, rx: 3, ry: 1 }]
  ]
  for (const leaves of cases) {
    const mask = seedlingMask(w, h, leaves)
    assert.throws(() => makeTrimap(mask, w, h, { kernelSize: 5, fgIterations: 5, bgIterations: 5 }), /no definite leaf/)
    const maker = new TrimapMaker(w, h)
    const { trimap, stats, settings } = maker.make(mask, { mode: 'auto' })
    maker.dispose()
    assert.equal(settings.kernelSize, 3)
    assert.ok(settings.bgIterations >= 1 && stats.unknown > 0)
    // The fitted values are ordinary settings: the same trimap comes from them in 'fixed' mode.
    assert.deepEqual(makeTrimap(mask, w, h, settings), trimap)
    for (const { cx, cy } of leaves) assert.equal(trimap[cy * w + cx], 255, `leaf at ${cx},${cy} keeps its core with ${JSON.stringify(settings)}`)
  }
})

test("'auto' on a large leaf is the seed's band (10 px each side), so large photos keep the seed's trimap", () => {
  const w = 400
  const h = 300
  const mask = seedlingMask(w, h, [{ cx: 200, cy: 150, rx: 150, ry: 100 }])
  const maker = new TrimapMaker(w, h)
  const auto = maker.make(mask, { mode: 'auto' })
  maker.dispose()
  assert.deepEqual(auto.settings, { kernelSize: 3, fgIterations: 10, bgIterations: 10 })
  assert.deepEqual(auto.trimap, makeTrimap(mask, w, h, { kernelSize: 5, fgIterations: 5, bgIterations: 5 }))
})
