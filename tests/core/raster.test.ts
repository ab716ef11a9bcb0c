import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { readRaster, writePng } from '../../src/main/core/imaging/raster'

test('a PNG written as gray reads back identical; RGB reads as 3 channels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-raster-'))
  const data = new Uint8Array(6 * 4).map((_, i) => (i * 37) % 256)
  await writePng(join(dir, 'g.png'), { width: 6, height: 4, channels: 1, data })
  const back = await readRaster(join(dir, 'g.png'), 1)
  assert.deepEqual([back.width, back.height, back.channels], [6, 4, 1])
  assert.deepEqual(Array.from(back.data), Array.from(data))
  const rgb = await readRaster(join(dir, 'g.png'), 3)
  assert.equal(rgb.data.length, 6 * 4 * 3)
  assert.equal(rgb.data[3 * 5], data[5])
})

test('EXIF orientation is applied and a truncated file names itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-raster-'))
  // 4 wide x 2 high, stored with orientation 6 (rotate 90° clockwise to display): reads 2 wide x 4 high.
  const jpeg = await sharp({ create: { width: 4, height: 2, channels: 3, background: '#808080' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer()
  writeFileSync(join(dir, 'o.jpg'), jpeg)
  const r = await readRaster(join(dir, 'o.jpg'), 3)
  assert.deepEqual([r.width, r.height], [2, 4])
  writeFileSync(join(dir, 'cut.jpg'), jpeg.subarray(0, jpeg.length / 2))
  await assert.rejects(readRaster(join(dir, 'cut.jpg'), 3), /cut\.jpg/)
})
