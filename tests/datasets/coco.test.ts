import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  cocoFromMasks,
  cocoImageMask,
  exportMaskFolder,
  matchCocoImages,
  parseCoco,
  readCocoFile,
  rleFromPolygon,
  writeCocoJson
} from '../../src/main/core/datasets/coco'
import { compressCounts, decodeRle, decompressCounts, encodeRle } from '../../src/shared/rle'
import { readRaster } from '../../src/main/core/imaging/raster'

// Ground truth made by pycocotools 2.0.11 (fixtures/make-pycocotools-reference.py).
const reference = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'pycocotools-reference.json'), 'utf8')) as {
  polygons: Array<{ height: number; width: number; polygon: number[]; counts: string }>
  masks: Array<{ height: number; width: number; rows: string[]; counts: string }>
  union: { height: number; width: number; polygons: number[][]; counts: string }
}

const rowsOf = (pixels: Uint8Array, h: number, w: number): string[] =>
  Array.from({ length: h }, (_, y) => Array.from(pixels.subarray(y * w, y * w + w), (v) => (v ? '1' : '0')).join(''))

test('a square polygon covers exactly the pixels pycocotools gives (2×2 block)', () => {
  const counts = rleFromPolygon([1, 1, 3, 1, 3, 3, 1, 3], 5, 5)
  assert.deepEqual(counts, [6, 2, 3, 2, 12])
  assert.equal(compressCounts(counts), '62309')
  assert.deepEqual(rowsOf(decodeRle({ size: [5, 5], counts }), 5, 5), ['00000', '01100', '01100', '00000', '00000'])
})

test('40 polygons (integer, quarter-pixel, arbitrary, partly outside) rasterise exactly as pycocotools', () => {
  for (const [i, c] of reference.polygons.entries()) {
    const counts = rleFromPolygon(c.polygon, c.height, c.width)
    assert.equal(compressCounts(counts), c.counts, `polygon ${i}`)
    assert.deepEqual(counts, decompressCounts(c.counts), `polygon ${i}`)
  }
})

test('masks encode to pycocotools strings and decode back (RLE round trip, column-major)', () => {
  for (const [i, c] of reference.masks.entries()) {
    const pixels = Uint8Array.from(c.rows.join(''), (ch) => Number(ch))
    const { counts } = encodeRle(pixels, c.width, c.height)
    assert.equal(compressCounts(counts), c.counts, `mask ${i}`)
    assert.deepEqual(rowsOf(decodeRle({ size: [c.height, c.width], counts: decompressCounts(c.counts) }), c.height, c.width), c.rows, `mask ${i}`)
  }
})

test('a COCO file with polygons, uncompressed and compressed RLE gives one union mask per image', () => {
  const u = reference.union
  const rleCrowd = { counts: [0, 2, 18, 3, 297], size: [20, 16] } // column 0 rows 0–1, column 1 rows 0–2
  const text = JSON.stringify({
    images: [
      { id: 7, file_name: 'plants/a.jpg', width: 16, height: 20 },
      { id: 8, file_name: 'b.jpg', width: 5, height: 5 }
    ],
    annotations: [
      { id: 1, image_id: 7, category_id: 1, segmentation: u.polygons, iscrowd: 0 },
      { id: 2, image_id: 7, category_id: 1, segmentation: rleCrowd, iscrowd: 1 },
      { id: 3, image_id: 8, category_id: 1, segmentation: { counts: '62309', size: [5, 5] }, iscrowd: 0 }
    ],
    categories: [{ id: 1, name: 'leaf' }]
  })
  const coco = parseCoco(text, 'ann.json')
  const a = cocoImageMask(coco, 7)
  const expected = decodeRle({ size: [20, 16], counts: decompressCounts(u.counts) })
  expected[0] = expected[16] = 1
  expected[1] = expected[17] = expected[33] = 1
  assert.deepEqual(
    Array.from(a.data, (v) => (v ? 1 : 0)),
    Array.from(expected, (v) => (v ? 1 : 0))
  )
  assert.ok(a.data.every((v) => v === 0 || v === 255))
  assert.deepEqual(rowsOf(cocoImageMask(coco, 8).data, 5, 5), ['00000', '01100', '01100', '00000', '00000'])

  const m = matchCocoImages(coco, ['/photos/A.JPG', '/photos/c.jpg'])
  assert.deepEqual(
    m.pairs.map((p) => [p.image.id, p.photo]),
    [[7, '/photos/A.JPG']]
  )
  assert.deepEqual(
    m.unmatchedImages.map((u) => u.image.fileName),
    ['b.jpg']
  )
  assert.deepEqual(m.unmatchedPhotos, ['/photos/c.jpg'])
  assert.throws(
    () => cocoImageMask(coco, 7, { file: 'ann.json', expected: { width: 20, height: 16, photo: 'A.JPG' } }),
    /ann\.json gives plants\/a\.jpg the size 16×20 pixels but the photo A\.JPG is 20×16/
  )
})

test('corrupt COCO files give messages naming the file and the entry', () => {
  assert.throws(
    () => parseCoco('{"images": [', 'x.json'),
    (e: Error) => /x\.json/.test(e.message) && /not valid JSON/.test(e.message)
  )
  assert.throws(() => parseCoco('{"annotations": []}', 'x.json'), /x\.json has no "images"/)
  const base = { images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 3 }] }
  assert.throws(
    () => parseCoco(JSON.stringify({ ...base, annotations: [{ id: 5, image_id: 2, segmentation: [] }] }), 'y.json'),
    /y\.json has annotation #1 \(id 5\) for image 2/
  )
  assert.throws(
    () => parseCoco(JSON.stringify({ ...base, annotations: [{ id: 5, image_id: 1, segmentation: { counts: [12], size: [4, 3] } }] }), 'y.json'),
    /RLE size \[4,3\] is not its image's \[height, width\] = \[3, 4\]/
  )
  // Runs that do not cover the image are refused when the file is read, before any pixel is allocated.
  assert.throws(
    () => parseCoco(JSON.stringify({ ...base, annotations: [{ id: 6, image_id: 1, segmentation: { counts: [5, 2], size: [3, 4] } }] }), 'z.json'),
    /z\.json has annotation #1 \(id 6\) with a broken RLE: its runs cover 7 pixels, not the image's 4×3 = 12/
  )
})

test('export: PNG masks named like the photos, and COCO JSON that reads back to the same pixels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-coco-'))
  const w = 9
  const h = 6
  const data = new Uint8Array(w * h)
  for (let y = 1; y < 5; y++) for (let x = 2; x < 7; x++) if ((x + y) % 3) data[y * w + x] = 255
  const items = [
    { photo: '/photos/IMG_1.JPG', mask: { width: w, height: h, channels: 1 as const, data } },
    { photo: '/photos/empty.png', mask: { width: 3, height: 2, channels: 1 as const, data: new Uint8Array(6) } }
  ]
  const written = await exportMaskFolder(items, dir)
  assert.deepEqual(
    written.map((p) => p.slice(dir.length + 1)),
    ['IMG_1.png', 'empty.png']
  )
  assert.deepEqual(Array.from((await readRaster(join(dir, 'IMG_1.png'), 1)).data), Array.from(data))
  await writeCocoJson(join(dir, 'masks.json'), items)
  assert.deepEqual(readdirSync(dir).sort(), ['IMG_1.png', 'empty.png', 'masks.json'])
  const coco = await readCocoFile(join(dir, 'masks.json'))
  assert.equal(coco.annotations.length, 1, 'an empty mask gets no annotation')
  assert.deepEqual(Array.from(cocoImageMask(coco, 1).data), Array.from(data))
  const json = cocoFromMasks(items) as { annotations: Array<{ bbox: number[]; area: number; segmentation: { counts: unknown } }> }
  assert.deepEqual(json.annotations[0].bbox, [2, 1, 5, 4])
  assert.equal(json.annotations[0].area, data.filter((v) => v).length)
  assert.equal(typeof json.annotations[0].segmentation.counts, 'string')
  await assert.rejects(exportMaskFolder([items[0], { ...items[0], photo: '/other/IMG_1.tif' }], dir), /IMG_1\.png/)
})

// No timing is asserted: an unclipped 1e12-pixel edge would never finish, and the test's timeout fails it.
test('a polygon reaching far outside the image is clipped: the same pixels as the part inside, at no cost', { timeout: 20_000 }, () => {
  const [w, h] = [20, 10]
  const draw = (polygon: number[]) => decodeRle({ size: [h, w], counts: rleFromPolygon(polygon, h, w) })
  const inside = draw([2, 2, 40, 2, 40, 20, 2, 20])
  const huge = draw([2, 2, 1e12, 2, 1e12, 1e12, 2, 1e12])
  assert.deepEqual(Array.from(huge), Array.from(inside))
  const negative = draw([-1e15, -1e15, 5, -1e15, 5, 5, -1e15, 5])
  const corner = draw([-30, -30, 5, -30, 5, 5, -30, 5])
  assert.deepEqual(Array.from(negative), Array.from(corner))
  assert.ok(negative.some((v) => v !== 0))
  // Entirely outside: an empty mask.
  assert.ok(draw([1e9, 1e9, 2e9, 1e9, 2e9, 2e9]).every((v) => v === 0))
  // Still too long a boundary after clipping (a million zigzags across the image): refused, not attempted.
  const zigzag = Array.from({ length: 400_000 }, (_, i) => (i % 4 === 0 ? 0 : i % 4 === 1 ? 0 : i % 4 === 2 ? w : h))
  assert.throws(() => rleFromPolygon(zigzag, h, w), /boundary too long to draw/)
})
