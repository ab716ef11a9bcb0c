import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRaster, writePng } from '../../src/main/core/imaging/raster'
import { matteBatch, matteFile, writeTrimapForMask } from '../../src/main/core/matting/files'

const W = 60
const H = 44

// A green disc on a beige background with a 3-pixel soft rim, and its hard mask.
function photoAndMask() {
  const rgb = new Uint8Array(W * H * 3)
  const mask = new Uint8Array(W * H)
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = y * W + x
      const r = Math.hypot(x - 30, y - 22)
      const a = Math.min(1, Math.max(0, (16 - r) / 3 + 0.5))
      const fg = [40, 160, 50]
      const bg = [220, 200, 170]
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.round(a * fg[c] + (1 - a) * bg[c])
      mask[p] = r < 16 ? 255 : 0
    }
  return { rgb, mask }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'leafseg-matting-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('mask PNG -> trimap PNG -> alpha and cutout PNGs', async () => {
  await withDir(async (dir) => {
    const { rgb, mask } = photoAndMask()
    await writePng(join(dir, 'leaf.png'), { width: W, height: H, channels: 3, data: rgb })
    await writePng(join(dir, 'leaf_mask.png'), { width: W, height: H, channels: 1, data: mask })
    const stats = await writeTrimapForMask(join(dir, 'leaf_mask.png'), join(dir, 'leaf_trimap.png'), {
      kernelSize: 3,
      fgIterations: 3,
      bgIterations: 3,
      photo: join(dir, 'leaf.png')
    })
    const trimap = await readRaster(join(dir, 'leaf_trimap.png'), 1)
    assert.deepEqual(new Set(trimap.data), new Set([0, 128, 255]))
    assert.equal(stats.unknown, trimap.data.filter((v) => v === 128).length)

    const result = await matteFile({
      image: join(dir, 'leaf.png'),
      trimap: join(dir, 'leaf_trimap.png'),
      alphaOut: join(dir, 'leaf_alpha.png'),
      cutoutOut: join(dir, 'leaf_cutout.png')
    })
    assert.equal(result.unknownPixels, stats.unknown)
    const alpha = await readRaster(join(dir, 'leaf_alpha.png'), 1)
    assert.equal(alpha.width, W)
    assert.equal(alpha.data[22 * W + 30], 255)
    assert.equal(alpha.data[0], 0)
    const rim = alpha.data[22 * W + 30 + 16] // on the soft rim: partly transparent
    assert.ok(rim > 40 && rim < 215, `rim alpha ${rim}`)
    const cutout = await readRaster(join(dir, 'leaf_cutout.png'), 4)
    assert.equal(cutout.data[4 * (22 * W + 30 + 16) + 3], rim)
    assert.ok(Math.abs(cutout.data[4 * (22 * W + 30 + 16) + 1] - 160) < 20, 'rim colour is the leaf green, not the mix')
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
      []
    )
  })
})

test('bad files give messages naming them; a batch records them and goes on; cancel stops it', async () => {
  await withDir(async (dir) => {
    const { rgb, mask } = photoAndMask()
    await writePng(join(dir, 'leaf.png'), { width: W, height: H, channels: 3, data: rgb })
    await writePng(join(dir, 'empty_mask.png'), { width: W, height: H, channels: 1, data: new Uint8Array(W * H) })
    await assert.rejects(writeTrimapForMask(join(dir, 'empty_mask.png'), join(dir, 'x.png')), /empty_mask\.png: the mask has no leaf pixels/)
    await writePng(join(dir, 'small_mask.png'), { width: 30, height: 44, channels: 1, data: new Uint8Array(30 * 44).fill(255) })
    await assert.rejects(
      writeTrimapForMask(join(dir, 'small_mask.png'), join(dir, 'x.png'), { photo: join(dir, 'leaf.png') }),
      /small_mask\.png is 30×44 but its photo .*leaf\.png is 60×44/
    )

    await writePng(join(dir, 'mask.png'), { width: W, height: H, channels: 1, data: mask })
    await writeTrimapForMask(join(dir, 'mask.png'), join(dir, 'good_trimap.png'))
    const smooth = mask.map((v, i) => (i % 7 === 0 ? 77 : v))
    await writePng(join(dir, 'smooth_trimap.png'), { width: W, height: H, channels: 1, data: smooth })
    await writePng(join(dir, 'small_trimap.png'), { width: 10, height: 10, channels: 1, data: new Uint8Array(100).fill(128) })

    const items = [
      { image: join(dir, 'leaf.png'), trimap: join(dir, 'good_trimap.png'), alphaOut: join(dir, 'a1.png') },
      { image: join(dir, 'leaf.png'), trimap: join(dir, 'smooth_trimap.png'), alphaOut: join(dir, 'a2.png') },
      { image: join(dir, 'missing.png'), trimap: join(dir, 'good_trimap.png'), alphaOut: join(dir, 'a3.png') },
      { image: join(dir, 'leaf.png'), trimap: join(dir, 'small_trimap.png'), alphaOut: join(dir, 'a4.png') }
    ]
    const progress: number[] = []
    const outcome = await matteBatch(items, { onProgress: (done) => progress.push(done) })
    assert.deepEqual(progress, [0, 1, 2, 3, 4])
    assert.equal(outcome.done.length, 1)
    assert.equal(outcome.failed.length, 3)
    assert.match(outcome.failed[0].message, /smooth_trimap\.png contains values other than 0 .*77/)
    assert.match(outcome.failed[1].message, /missing\.png/)
    assert.match(outcome.failed[2].message, /small_trimap\.png is 10×10 but its photo .*leaf\.png is 60×44/)

    const controller = new AbortController()
    const cancelled = matteBatch(items, { signal: controller.signal, onProgress: (done) => done === 1 && controller.abort() })
    await assert.rejects(cancelled, { name: 'AbortError' })
  })
})
