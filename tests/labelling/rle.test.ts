// COCO RLE (uncompressed, and the compressed string COCO files may hold), checked against expectations written by hand from the COCO definition
// (column-major order, counts alternate starting with background) and by round trips on generated masks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compressCounts, decodeLeaves, decodeRle, decompressCounts, encodeLeaves, encodeRle, rleProblem } from '../../src/shared/rle'

/** A mask from rows of '0'/'1' characters (row-major, as it looks). */
function mask(...rows: string[]): { data: Uint8Array; width: number; height: number } {
  const width = rows[0].length
  const data = new Uint8Array(rows.length * width)
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '1' ? 255 : 0)))
  return { data, width, height: rows.length }
}

const handMade: { name: string; rows: string[]; counts: number[] }[] = [
  // columns read top to bottom: col0 = 0,1; col1 = 1,1; col2 = 1,0 → 0 | 1 1 1 1 | 0
  { name: 'a 3×2 mask read by columns', rows: ['011', '110'], counts: [1, 4, 1] },
  { name: 'empty', rows: ['000', '000', '000'], counts: [9] },
  { name: 'full (starts with a zero-length background run)', rows: ['11', '11'], counts: [0, 4] },
  { name: 'one pixel at the top left', rows: ['100', '000', '000'], counts: [0, 1, 8] },
  { name: 'one pixel at the bottom right', rows: ['000', '000', '001'], counts: [8, 1] },
  // row-major this would be 0 1 0 1 0 1; column-major: col0 = 0,0,0; col1 = 1,1,1 → runs 3, 3
  { name: 'a column of leaf: column-major, not row-major', rows: ['01', '01', '01'], counts: [3, 3] },
  // odd sizes, 5 wide 3 high: col0 000, col1 010, col2 111, col3 010, col4 000 → 0000 1 0 111 0 1 0000
  { name: 'a plus sign on an odd 5×3 mask', rows: ['00100', '01110', '00100'], counts: [4, 1, 1, 3, 1, 1, 4] },
  { name: 'a single pixel mask that is leaf', rows: ['1'], counts: [0, 1] },
  { name: 'a single pixel mask that is background', rows: ['0'], counts: [1] },
  { name: 'one row (1×7)', rows: ['0110001'], counts: [1, 2, 3, 1] }
]

for (const c of handMade) {
  test(`RLE of ${c.name} is what COCO defines, and decodes back`, () => {
    const m = mask(...c.rows)
    const rle = encodeRle(m.data, m.width, m.height)
    assert.deepEqual(rle, { size: [m.height, m.width], counts: c.counts })
    assert.deepEqual(decodeRle(rle), m.data)
  })
}

test('RLE round-trips generated masks of odd sizes, and runs alternate as COCO requires', () => {
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  for (const [width, height] of [
    [1, 1],
    [1, 13],
    [17, 1],
    [33, 31],
    [64, 48],
    [101, 3]
  ]) {
    for (const density of [0, 0.02, 0.5, 0.98, 1]) {
      const data = new Uint8Array(width * height)
      // blobs, not noise: some runs cross column ends, as in real masks
      for (let i = 0; i < data.length; i++) data[i] = random() < density ? (i > 0 && random() < 0.5 ? data[i - 1] || 255 : 255) : 0
      const rle = encodeRle(data, width, height)
      assert.equal(
        rle.counts.reduce((a, b) => a + b, 0),
        width * height
      )
      assert.ok(
        rle.counts.slice(1).every((r) => r > 0),
        'only the first run may be empty'
      )
      const leaf = rle.counts.filter((_, j) => j % 2 === 1).reduce((a, b) => a + b, 0)
      assert.equal(leaf, data.filter((v) => v !== 0).length)
      assert.deepEqual(
        decodeRle(rle),
        data.map((v) => (v ? 255 : 0)),
        `${width}×${height} at ${density}`
      )
    }
  }
})

test('an unsound RLE is refused with what is wrong', () => {
  assert.match(rleProblem({ size: [2, 2], counts: [1, 2] })!, /add up to 3 pixels but a 2×2 mask has 4/)
  assert.match(rleProblem({ size: [2, 2], counts: [1, -1, 4] })!, /whole numbers ≥ 0 \(found -1\)/)
  assert.match(rleProblem({ size: [0, 2], counts: [] })!, /size must be/)
  assert.throws(() => decodeRle({ size: [2, 2], counts: [5] }), /Not a mask RLE: counts add up to 5/)
  assert.throws(() => encodeRle(new Uint8Array(3), 2, 2), /needs 4 pixels, not 3/)
})

test('leaves: one RLE per leaf in one pass, each the RLE of that leaf alone; decoded back to the same ids', () => {
  const width = 7
  const height = 5
  const ids = Uint8Array.from({ length: width * height }, (_, i) => [0, 3, 3, 9, 0, 9, 1][(i * 5 + Math.floor(i / 3)) % 7])
  const leaves = encodeLeaves(ids, width, height)
  assert.equal(leaves.length, 3)
  ;[1, 3, 9].forEach((id, k) =>
    assert.deepEqual(
      leaves[k],
      encodeRle(
        Uint8Array.from(ids, (v) => (v === id ? 1 : 0)),
        width,
        height
      ),
      `leaf ${id}`
    )
  )
  assert.deepEqual(
    Array.from(decodeLeaves(leaves, width, height)),
    Array.from(ids, (v) => [0, 1, 0, 2, 0, 0, 0, 0, 0, 3][v])
  )
  assert.deepEqual(encodeLeaves(new Uint8Array(width * height), width, height), [])
  const full = encodeLeaves(new Uint8Array(width * height).fill(4), width, height)
  assert.deepEqual(full, [{ size: [height, width], counts: [0, width * height] }])
  assert.throws(() => decodeLeaves([{ size: [height, width], counts: [3] }], width, height), /leaf 1/)
})

test('compressed counts (the string in COCO files): hand-computed cases, a negative difference, and refusals', () => {
  assert.deepEqual(decompressCounts('234'), [2, 3, 4])
  assert.equal(compressCounts([2, 3, 4]), '234')
  assert.deepEqual(decompressCounts('T3'), [100]) // 100 = 4 + 3·32: two groups, the first flagged "more"
  assert.equal(compressCounts([100]), 'T3')
  // the fourth count is stored as its difference from the second: 2 − 5 = −3 → 'M'
  assert.deepEqual(decompressCounts('05:M'), [0, 5, 10, 2])
  assert.equal(compressCounts([0, 5, 10, 2]), '05:M')
  assert.deepEqual(decompressCounts(''), [])
  assert.throws(() => decompressCounts('0\x7f'), /invalid character/)
  assert.throws(() => decompressCounts('T'), /ends in the middle of a number/)
})

test('compressed counts round-trip the RLE of generated masks, large runs included', () => {
  for (const [width, height] of [
    [1, 1],
    [9, 7],
    [640, 480]
  ]) {
    const data = Uint8Array.from({ length: width * height }, (_, i) => ((i * 7919) % 1013 < 400 || i > (width * height * 3) / 4 ? 255 : 0))
    const rle = encodeRle(data, width, height)
    const text = compressCounts(rle.counts)
    assert.match(text, /^[0-o]*$/, 'characters 48..111 only')
    assert.deepEqual(decompressCounts(text), rle.counts, `${width}×${height}`)
    assert.deepEqual(decodeRle({ size: rle.size, counts: decompressCounts(text) }), data)
  }
})
