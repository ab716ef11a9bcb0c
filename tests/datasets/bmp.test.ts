import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeBmp } from '../../src/main/core/imaging/bmp'
import { readRaster } from '../../src/main/core/imaging/raster'
import { makeBmp, tempDir, type Rgba, type BmpSpec } from './helpers'

const colours: Rgba[] = [
  [0, 0, 0, 255],
  [255, 255, 255, 255],
  [255, 0, 0, 255],
  [0, 255, 0, 255],
  [0, 0, 255, 255]
]
const pick = (x: number, y: number): Rgba => colours[(x * 3 + y * 7) % colours.length]

function expectPixels(spec: BmpSpec, channels: 3 | 4, pixel = spec.pixel): void {
  const out = decodeBmp(makeBmp(spec))
  assert.deepEqual([out.width, out.height, out.channels], [spec.width, spec.height, channels])
  for (let y = 0; y < spec.height; y++) {
    for (let x = 0; x < spec.width; x++) {
      const got = Array.from(out.data.subarray((y * spec.width + x) * channels, (y * spec.width + x + 1) * channels))
      assert.deepEqual(got, pixel(x, y).slice(0, channels), `${spec.bpp}-bit pixel ${x},${y}`)
    }
  }
}

test('24-bit BMP, bottom-up and top-down, odd width (row padding)', () => {
  const odd = (x: number, y: number): Rgba => [x * 40, y * 30, 200 - x * 10 - y, 255]
  expectPixels({ width: 5, height: 3, bpp: 24, pixel: odd }, 3)
  expectPixels({ width: 5, height: 3, bpp: 24, pixel: odd, topDown: true }, 3)
})

test('paletted BMPs: 8, 4 and 1 bit', () => {
  expectPixels({ width: 7, height: 4, bpp: 8, pixel: pick, palette: colours }, 3)
  expectPixels({ width: 9, height: 3, bpp: 4, pixel: pick, palette: colours }, 3)
  const bw = (x: number, y: number): Rgba => colours[(x + y) % 2]
  expectPixels({ width: 11, height: 3, bpp: 1, pixel: bw, palette: colours.slice(0, 2) }, 3)
})

test('16- and 32-bit BMPs, with bit fields and with alpha', () => {
  expectPixels({ width: 6, height: 3, bpp: 16, pixel: pick }, 3)
  expectPixels({ width: 6, height: 3, bpp: 16, pixel: pick, masks: [0xf800, 0x07e0, 0x001f, 0] }, 3)
  expectPixels({ width: 6, height: 3, bpp: 32, pixel: pick }, 3)
  const alpha = (x: number, y: number): Rgba => [x * 20, y * 50, 7, x === 0 ? 0 : 128 + y]
  expectPixels({ width: 4, height: 3, bpp: 32, pixel: alpha, masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000] }, 4)
})

test('refused BMPs say why; a BMP reads through readRaster like any image', async () => {
  const rle = makeBmp({ width: 4, height: 4, bpp: 8, pixel: pick, palette: colours, compression: 1 })
  assert.throws(() => decodeBmp(rle), /run-length compressed/)
  const full = makeBmp({ width: 8, height: 8, bpp: 24, pixel: pick })
  assert.throws(() => decodeBmp(full.subarray(0, full.length - 10)), /truncated/)
  const dir = tempDir('bmp')
  writeFileSync(join(dir, 'scan.bmp'), makeBmp({ width: 5, height: 2, bpp: 24, pixel: pick }))
  const r = await readRaster(join(dir, 'scan.bmp'), 3)
  assert.deepEqual([r.width, r.height], [5, 2])
  assert.deepEqual(Array.from(r.data.subarray(3, 6)), pick(1, 0).slice(0, 3))
  writeFileSync(join(dir, 'cut.bmp'), full.subarray(0, 100))
  await assert.rejects(readRaster(join(dir, 'cut.bmp'), 3), /cut\.bmp.*truncated/)
})
