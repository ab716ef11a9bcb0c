// COCO's uncompressed run-length encoding of a binary mask: the wire format of masks in the labelling API.
// The mask is read column by column (column-major, as COCO and pycocotools do), and `counts` alternates run
// lengths of background and leaf, starting with background (so a mask whose first pixel is leaf starts with 0).
// COCO files may also hold `counts` compressed into a string (pycocotools' form): compressCounts/decompressCounts.
// Pure code with no dependencies: the core and the renderer both encode and decode with it.

export interface Rle {
  /** [height, width], as in COCO. */
  size: [number, number]
  counts: number[]
}

/** Encode a row-major mask (any non-zero byte is leaf) of width × height pixels. */
export function encodeRle(mask: Uint8Array, width: number, height: number): Rle {
  if (mask.length !== width * height) throw new Error(`A ${width}×${height} mask needs ${width * height} pixels, not ${mask.length}.`)
  const counts: number[] = []
  let value = 0
  let run = 0
  for (let x = 0; x < width; x++) {
    for (let i = x; i < mask.length; i += width) {
      const leaf = mask[i] !== 0 ? 1 : 0
      if (leaf !== value) {
        counts.push(run)
        value = leaf
        run = 0
      }
      run++
    }
  }
  counts.push(run)
  return { size: [height, width], counts }
}

/** Why an RLE cannot be decoded, in words; null when it is sound. */
export function rleProblem(rle: Rle): string | null {
  const [height, width] = rle.size
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1)
    return `size must be two whole numbers ≥ 1, [height, width], not [${rle.size.join(', ')}]`
  let total = 0
  for (const c of rle.counts) {
    if (!Number.isInteger(c) || c < 0) return `counts must be whole numbers ≥ 0 (found ${c})`
    total += c
  }
  if (total !== height * width) return `counts add up to ${total} pixels but a ${width}×${height} mask has ${height * width}`
  return null
}

/** Decode to a row-major mask of 0 (background) and 255 (leaf). Throws when the RLE is not sound. */
export function decodeRle(rle: Rle): Uint8Array {
  const problem = rleProblem(rle)
  if (problem) throw new Error(`Not a mask RLE: ${problem}.`)
  const [height, width] = rle.size
  const mask = new Uint8Array(width * height)
  let k = 0 // position in column-major order
  rle.counts.forEach((run, j) => {
    if (j % 2 === 1) {
      for (let end = k + run; k < end; k++) mask[(k % height) * width + Math.floor(k / height)] = 255
    } else k += run
  })
  return mask
}

/**
 * Counts from pycocotools' compressed string: from the third count on, each is stored as its difference from the
 * count two before it; a number is 5-bit groups, least significant first, with 0x20 meaning "more follow" and 0x10
 * of the last group its sign, each group a character from '0' (48). Throws on a character outside that alphabet
 * or a number cut short.
 */
export function decompressCounts(s: string): number[] {
  const counts: number[] = []
  let p = 0
  while (p < s.length) {
    let x = 0
    let k = 0
    let more = true
    while (more) {
      if (p >= s.length) throw new Error('the compressed RLE string ends in the middle of a number')
      const c = s.charCodeAt(p) - 48
      if (c < 0 || c > 63) throw new Error(`the compressed RLE string has an invalid character '${s[p]}'`)
      x += (c & 0x1f) * 2 ** (5 * k)
      more = (c & 0x20) !== 0
      p++
      k++
      if (!more && c & 0x10) x -= 2 ** (5 * k) // sign extension
    }
    if (counts.length > 2) x += counts[counts.length - 2]
    counts.push(x)
  }
  return counts
}

/** Counts as pycocotools' compressed string (see decompressCounts). */
export function compressCounts(counts: readonly number[]): string {
  let s = ''
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0)
    let more = true
    while (more) {
      let c = ((x % 32) + 32) % 32
      x = Math.floor(x / 32)
      more = c & 0x10 ? x !== -1 : x !== 0
      if (more) c |= 0x20
      s += String.fromCharCode(c + 48)
    }
  }
  return s
}

/**
 * One RLE per leaf of a leaf-id image (row-major, 0 = background, other values = leaves), in one pass: the leaves
 * in order of their ids, absent ids skipped (so the k-th RLE is the k-th leaf present).
 */
export function encodeLeaves(ids: ArrayLike<number>, width: number, height: number): Rle[] {
  if (ids.length !== width * height) throw new Error(`A ${width}×${height} image needs ${width * height} pixels, not ${ids.length}.`)
  // Per leaf: its counts so far and where its current run (background or leaf) started, column-major.
  const runs = new Map<number, { counts: number[]; start: number }>()
  let k = 0
  let previous = 0
  for (let x = 0; x < width; x++) {
    for (let i = x; i < ids.length; i += width, k++) {
      const v = ids[i]
      if (v === previous) continue
      if (previous) {
        const r = runs.get(previous)!
        r.counts.push(k - r.start)
        r.start = k
      }
      if (v) {
        let r = runs.get(v)
        if (!r) runs.set(v, (r = { counts: [], start: 0 }))
        r.counts.push(k - r.start)
        r.start = k
      }
      previous = v
    }
  }
  return [...runs.keys()]
    .sort((a, b) => a - b)
    .map((v) => {
      const r = runs.get(v)!
      return { size: [height, width] as [number, number], counts: [...r.counts, ids.length - r.start] }
    })
}

/** Leaf ids (row-major, 0 = background, k = the k-th RLE; a later one wins where two overlap) from one RLE per leaf. */
export function decodeLeaves(leaves: Rle[], width: number, height: number): Uint16Array {
  const ids = new Uint16Array(width * height)
  leaves.forEach((rle, leaf) => {
    const problem = rleProblem(rle)
    if (problem) throw new Error(`Not a mask RLE (leaf ${leaf + 1}): ${problem}.`)
    if (rle.size[0] !== height || rle.size[1] !== width) throw new Error(`Leaf ${leaf + 1} is ${rle.size[1]}×${rle.size[0]}, not ${width}×${height}.`)
    let k = 0
    rle.counts.forEach((run, j) => {
      if (j % 2 === 1) for (let end = k + run; k < end; k++) ids[(k % height) * width + Math.floor(k / height)] = leaf + 1
      else k += run
    })
  })
  return ids
}
