// COCO's uncompressed run-length encoding of a binary mask: the wire format of masks in the labelling API.
// The mask is read column by column (column-major, as COCO and pycocotools do), and `counts` alternates run
// lengths of background and leaf, starting with background (so a mask whose first pixel is leaf starts with 0).
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
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) return `size must be two whole numbers ≥ 1, [height, width], not [${rle.size.join(', ')}]`
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
