import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { normaliseMask, writeMask } from '../../src/main/core/datasets/masks'
import { readInstanceFile } from '../../src/main/core/datasets/instances'
import { DatasetError } from '../../src/main/core/datasets/errors'
import { readRaster } from '../../src/main/core/imaging/raster'
import { gray16Png, makeBmp, png, tempDir } from './helpers'

const W = 8
const H = 6
// Which leaf each pixel belongs to (0 = background), drawn by hand.
const LEAVES = ['00000000', '01100220', '01100220', '00003300', '00003300', '00000000'].join('')
const leafAt = (i: number): number => Number(LEAVES[i])
const expectedBinary = Array.from(LEAVES, (c) => (c === '0' ? 0 : 255))

async function file(dir: string, name: string, data: Buffer): Promise<string> {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

test('komatsuna-like colour labels: binary union of the leaves, one leaf per colour stored as leaf ids', async () => {
  const dir = tempDir('masks')
  const palette = [
    [0, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 128, 0]
  ]
  const rgb = Array.from(LEAVES, (c) => palette[Number(c)]).flat()
  const path = await file(dir, 'label_01.png', await png(W, H, 3, rgb))
  const mask = await normaliseMask(path, { expected: { width: W, height: H } })
  assert.equal(mask.kind, 'instance-colours')
  assert.deepEqual(Array.from(mask.binary.data), expectedBinary)
  assert.equal(mask.binary.channels, 1)
  assert.equal(mask.foreground, 12 / 48)
  assert.equal(mask.instances!.count, 3)
  assert.deepEqual(Array.from(mask.instances!.ids), Array.from(LEAVES, Number))

  await writeMask(mask, { binary: join(dir, 'out.png'), instances: join(dir, 'out-instances.png') })
  const back = await readRaster(join(dir, 'out.png'), 1)
  assert.deepEqual(Array.from(back.data), expectedBinary)
  assert.equal((await sharp(join(dir, 'out.png')).metadata()).channels, 1)
  assert.equal((await sharp(join(dir, 'out-instances.png')).metadata()).channels, 1)
  const inst = await readInstanceFile(join(dir, 'out-instances.png'))
  assert.deepEqual([inst.width, inst.height, inst.count], [W, H, 3])
  assert.deepEqual(Array.from(inst.ids), Array.from(LEAVES, Number), 'leaf ids 1..3 in order of first appearance')
})

test('index labels with gaps (ids 2, 7, 40) and palette labels (CVPPP) are numbered 1..count; more than 255 leaves are refused by name', async () => {
  const dir = tempDir('masks')
  const sparse = [0, 2, 7, 40]
  const path = await file(
    dir,
    'plant_label.png',
    await png(
      W,
      H,
      1,
      Array.from(LEAVES, (c) => sparse[Number(c)])
    )
  )
  const mask = await normaliseMask(path)
  assert.equal(mask.kind, 'instance-ids')
  assert.equal(mask.instances!.count, 3)
  assert.deepEqual(Array.from(mask.instances!.ids), Array.from(LEAVES, Number))

  // An indexed (palette) label, as CVPPP's _label.png: each index its own colour, each colour a leaf.
  const palette = [
    [0, 0, 0],
    [128, 0, 0],
    [0, 128, 0],
    [128, 128, 0]
  ]
  const indexed = await sharp(Buffer.from(Array.from(LEAVES, (c) => palette[Number(c)]).flat()), { raw: { width: W, height: H, channels: 3 } })
    .png({ palette: true, dither: 0 })
    .toBuffer()
  const cvppp = await file(dir, 'plant001_label.png', indexed)
  assert.equal((await sharp(cvppp).metadata()).isPalette, true)
  const fromPalette = await normaliseMask(cvppp)
  assert.equal(fromPalette.instances!.count, 3)
  assert.deepEqual(Array.from(fromPalette.instances!.ids), Array.from(LEAVES, Number))

  // 300 distinct colours, each a leaf: more than the stored format holds.
  const many = Array.from({ length: 20 * 15 }, (_, i) => [1 + (i % 200), 1 + Math.floor(i / 200), 9]).flat()
  const crowded = await file(dir, 'crowded.png', await png(20, 15, 3, many))
  await assert.rejects(normaliseMask(crowded), (e: Error) => /crowded\.png labels 300 separate leaves; Leafseg keeps at most 255/.test(e.message))
})

test('binary 0/255, binary 0/1, RGB white-on-black, 16-bit and paletted BMP masks', async () => {
  const dir = tempDir('masks')
  const cases: Array<[string, Buffer, string]> = [
    ['m255.png', await png(W, H, 1, expectedBinary), 'binary'],
    [
      'm01.png',
      await png(
        W,
        H,
        1,
        Array.from(LEAVES, (c) => (c === '0' ? 0 : 1))
      ),
      'binary-01'
    ],
    [
      'rgb.png',
      await png(
        W,
        H,
        3,
        expectedBinary.flatMap((v) => [v, v, v])
      ),
      'binary'
    ],
    [
      'm16.png',
      await sharp(Buffer.from(expectedBinary), { raw: { width: W, height: H, channels: 1 } })
        .toColourspace('grey16')
        .png()
        .toBuffer(),
      'binary'
    ],
    [
      'mask.bmp',
      makeBmp({
        width: W,
        height: H,
        bpp: 8,
        palette: [
          [0, 0, 0, 255],
          [255, 255, 255, 255]
        ],
        pixel: (x, y) => (leafAt(y * W + x) ? [255, 255, 255, 255] : [0, 0, 0, 255])
      }),
      'binary'
    ]
  ]
  for (const [name, data, kind] of cases) {
    const mask = await normaliseMask(await file(dir, name, data))
    assert.equal(mask.kind, kind, name)
    assert.deepEqual(Array.from(mask.binary.data), expectedBinary, name)
  }
  assert.equal((await sharp(join(dir, 'm16.png')).metadata()).depth, 'ushort', 'the test really made a 16-bit file')
})

test('grayscale masks are thresholded (default 128, configurable); low gray values are instance ids', async () => {
  const dir = tempDir('masks')
  const ramp = Array.from({ length: W * H }, (_, i) => Math.round((i * 255) / (W * H - 1)))
  const path = await file(dir, 'soft.png', await png(W, H, 1, ramp))
  const normal = await normaliseMask(path)
  assert.equal(normal.kind, 'grayscale')
  assert.deepEqual(
    Array.from(normal.binary.data),
    ramp.map((v) => (v >= 128 ? 255 : 0))
  )
  const low = await normaliseMask(path, { threshold: 50 })
  assert.deepEqual(
    Array.from(low.binary.data),
    ramp.map((v) => (v >= 50 ? 255 : 0))
  )

  const idsPath = await file(dir, 'ids.png', await png(W, H, 1, Array.from(LEAVES, Number)))
  const ids = await normaliseMask(idsPath)
  assert.equal(ids.kind, 'instance-ids')
  assert.equal(ids.instances!.count, 3)
  assert.deepEqual(Array.from(ids.binary.data), expectedBinary)
  await writeMask(ids, { binary: join(dir, 'b.png'), instances: join(dir, 'i.png') })
  assert.deepEqual(Array.from((await readRaster(join(dir, 'i.png'), 1)).data), Array.from(LEAVES, Number))

  // 16-bit ids above 255 (a 16-bit file whose values stay below the threshold × 257): the same three leaves.
  const manyIds = Array.from(LEAVES, (c) => (c === '0' ? 0 : 300 + Number(c)))
  const path16 = await file(dir, 'ids16.png', gray16Png(W, H, manyIds))
  const ids16 = await normaliseMask(path16)
  assert.equal(ids16.kind, 'instance-ids')
  assert.deepEqual(Array.from(ids16.instances!.ids), Array.from(LEAVES, Number))
  await writeMask(ids16, { binary: join(dir, 'b16.png'), instances: join(dir, 'i16.png') })
  assert.deepEqual(Array.from((await readInstanceFile(join(dir, 'i16.png'))).ids), Array.from(LEAVES, Number), 'the same three leaves')
})

test('transparency: a mask drawn in the alpha channel only, and transparent pixels as background', async () => {
  const dir = tempDir('masks')
  const alphaOnly = expectedBinary.flatMap((a) => [0, 0, 0, a])
  const a = await normaliseMask(await file(dir, 'alpha.png', await png(W, H, 4, alphaOnly)))
  assert.deepEqual(Array.from(a.binary.data), expectedBinary)
  // White everywhere, but transparent outside the leaves.
  const cutout = expectedBinary.flatMap((v) => [255, 255, 255, v])
  const b = await normaliseMask(await file(dir, 'cutout.png', await png(W, H, 4, cutout)))
  assert.deepEqual(Array.from(b.binary.data), expectedBinary)
})

test('a JPEG-saved colour label (thousands of colours) still gives the leaves, without instances', async () => {
  const dir = tempDir('masks')
  const w = 64
  const h = 64
  let seed = 1
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const inLeaf = (x: number, y: number): boolean => (x - 20) ** 2 + (y - 30) ** 2 < 200 || (x > 40 && y > 10 && y < 30)
  const rgb: number[] = []
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) rgb.push(...(inLeaf(x, y) ? [150 + rand(100), 60 + rand(100), rand(60)] : [rand(12), rand(12), rand(12)]))
  const mask = await normaliseMask(await file(dir, 'noisy.png', await png(w, h, 3, rgb)))
  assert.equal(mask.kind, 'colour-noisy')
  assert.equal(mask.instances, undefined)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) assert.equal(mask.binary.data[y * w + x], inLeaf(x, y) ? 255 : 0)
})

test('a mask of the wrong size is refused with both sizes and the file; unreadable masks name themselves', async () => {
  const dir = tempDir('masks')
  const path = await file(dir, 'IMG_7_mask.png', await png(W, H, 1, expectedBinary))
  await assert.rejects(normaliseMask(path, { expected: { width: H, height: W, photo: 'IMG_7.jpg' } }), (err: DatasetError) => {
    assert.equal(err.code, 'mask-size')
    assert.match(err.message, /IMG_7_mask\.png is 8×6 pixels but its photo IMG_7\.jpg is 6×8/)
    assert.match(err.message, /turned on its side/)
    return true
  })
  await assert.rejects(normaliseMask(path, { expected: { width: 9, height: 6 } }), (err: DatasetError) => !/side/.test(err.message))
  const text = await file(dir, 'notes_mask.png', Buffer.from('not a png'))
  await assert.rejects(normaliseMask(text), (err: DatasetError) => err.code === 'unreadable' && err.message.includes('notes_mask.png'))
})

/** An index label: `count` leaves as 4×4 blocks (ids 1..count, row by row) on a background of 0, `width` wide. */
function blockLabel(count: number, width: number, height: number): number[] {
  const ids = new Array<number>(width * height).fill(0)
  const perRow = Math.floor(width / 5)
  for (let k = 0; k < count; k++) {
    const x0 = (k % perRow) * 5
    const y0 = Math.floor(k / perRow) * 5
    for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) ids[y * width + x] = k + 1
  }
  return ids
}

test('index labels are told from gray masks by their values: 150 or 255 leaves in 8 bits kept, 300 in 16 bits refused by name', async () => {
  const dir = tempDir('masks')
  // Ids 1..150 once imported as a binary mask of the ids >= 128 only (1,840 of 12,000 px), without a word.
  const ids150 = blockLabel(150, 120, 100)
  const mask150 = await normaliseMask(await file(dir, 'label150.png', await png(120, 100, 1, ids150)))
  assert.equal(mask150.kind, 'instance-ids')
  assert.equal(mask150.instances!.count, 150)
  assert.equal(mask150.foreground, (150 * 16) / 12_000)
  const mask255 = await normaliseMask(await file(dir, 'label255.png', await png(130, 110, 1, blockLabel(255, 130, 110))))
  assert.equal(mask255.kind, 'instance-ids')
  assert.equal(mask255.instances!.count, 255)
  // 300 ids in 16 bits once imported as an empty mask.
  const crowded = await file(dir, 'label300.png', gray16Png(130, 130, blockLabel(300, 130, 130)))
  await assert.rejects(
    normaliseMask(crowded),
    (e: Error) => e instanceof DatasetError && /label300\.png labels 300 separate leaves; Leafseg keeps at most 255 leaves per photo/.test(e.message)
  )
  // A gray mask with a soft edge (a leaf at 255, its rim at 60..200) stays a mask, thresholded.
  const soft = new Array<number>(40 * 30).fill(0)
  for (let y = 5; y < 25; y++) for (let x = 5; x < 35; x++) soft[y * 40 + x] = y === 5 || y === 24 || x === 5 || x === 34 ? 60 + ((x * 7 + y * 3) % 140) : 255
  const softMask = await normaliseMask(await file(dir, 'soft-edge.png', await png(40, 30, 1, soft)))
  assert.equal(softMask.kind, 'grayscale')
  assert.equal(softMask.instances, undefined)
})
