// Leaves as a network learns them and as they come back out of its output. Pure TypeScript: no tfjs, no OpenCV.
//
// The representation (what the second output channel of a network that separates leaves learns, unet.ts
// `instances`): each leaf's own distance to its border, divided by that leaf's largest distance, so every leaf,
// large or small, round or thin, has a peak of 1 along its middle and falls to 0 at its edge and at the seam with
// any leaf it touches. Background is 0. (Measured against a touching band on komatsuna: README, "Separating leaves".)
//
// Decoding: leaf pixels are those whose leaf probability reaches the threshold; seeds are the connected pieces of
// leaf whose centre value reaches SEED_LEVEL (one per leaf, since the seams between leaves stay low); small pieces
// are dropped as noise. The seeds then grow over the leaf mask, highest centre value first (a seeded watershed), so
// each leaf pixel joins the leaf it reaches without crossing a seam. Leaf pixels no seed reaches (a blob with no
// seed) become leaves of their own when they are large enough.
import { isPredictedLeaf, SEED_LEVEL } from './leaf-rules'
import type { ProbabilityMap } from './tiling'

export interface LeafInstances {
  width: number
  height: number
  /** Per pixel, row-major: 0 = background, 1..count = leaf. */
  ids: Uint16Array
  count: number
}

export interface SeparateOptions {
  /** Leaf where the leaf probability reaches it (the same rule as the binary mask); default 0.5. */
  threshold?: number
  /** Seeds are leaf pixels whose centre value reaches this; default SEED_LEVEL. */
  seedLevel?: number
  /** Seeds, and seedless blobs, smaller than this many pixels are dropped; default 1/4000 of the image, at least 4. */
  minPixels?: number
}

const LEVELS = 256

/**
 * The training target of the centre channel: per pixel of a leaf, its Euclidean distance to the nearest pixel that
 * is not of the same leaf (background, another leaf), divided by the largest such distance in that leaf; 0 on
 * background. The photo's edge is not a border: a leaf cut by the edge keeps rising towards it.
 */
export function leafCentres(ids: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height
  if (ids.length !== n) throw new Error(`The leaf ids must have ${n} values for a ${width}×${height} image (got ${ids.length}).`)
  // Each leaf's bounding box, grown by one pixel where the image allows: the distance transform runs on that box.
  const boxes = leafBoxes(ids, width, height)
  const out = new Float32Array(n)
  for (const [id, b] of boxes) {
    const x0 = Math.max(0, b.x0 - 1)
    const y0 = Math.max(0, b.y0 - 1)
    const w = Math.min(width - 1, b.x1 + 1) - x0 + 1
    const h = Math.min(height - 1, b.y1 + 1) - y0 + 1
    const inside = new Uint8Array(w * h)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) inside[y * w + x] = ids[(y0 + y) * width + x0 + x] === id ? 1 : 0
    const squared = squaredDistances(inside, w, h)
    let peak = 0
    for (let i = 0; i < squared.length; i++) if (inside[i] && squared[i] > peak) peak = squared[i]
    peak = Math.sqrt(peak)
    if (peak === 0 || !Number.isFinite(peak)) peak = 1 // a leaf with no pixel off it in its box: flat
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x
        if (inside[i]) out[(y0 + y) * width + x0 + x] = Math.min(1, Math.sqrt(squared[i]) / peak)
      }
  }
  return out
}

/** How leafWeights weighs pixels: see there. */
export const LEAF_WEIGHTS = {
  /** Largest weight a small leaf gets for being small (its share of the photo's mean leaf area). */
  maxBalance: 10,
  /** Extra weight on a seam between two leaves (W0 of Ronneberger et al.'s weight map)... */
  seam: 5,
  /** ...falling off with the distance to the second-nearest leaf as a Gaussian of this σ, in photo pixels. */
  seamSigma: 3
}

/**
 * Per-pixel weights of the centre channel's loss (unet.ts instanceLoss), after the weight map of Ronneberger et
 * al.'s U-Net (2015): the leaves whose centres a network misses are small ones pressed against their neighbours,
 * and an even mean over pixels gives them almost no say, where SBD counts every leaf alike. The weight of a pixel is
 * balance + seam · exp(−d² / 2σ²):
 * - balance: on a leaf, the photo's mean leaf area over that leaf's area, clipped to [1, maxBalance]; 1 on background;
 * - d: the distance to the second-nearest leaf (a leaf pixel's own leaf is its nearest, at 0), so the pixels on
 *   either side of a seam, and background squeezed between two leaves, weigh most; leaves further than 4σ count as
 *   none (their term would be under 0.2 % of `seam`).
 */
export function leafWeights(ids: ArrayLike<number>, width: number, height: number, o: typeof LEAF_WEIGHTS = LEAF_WEIGHTS): Float32Array {
  const n = width * height
  if (ids.length !== n) throw new Error(`The leaf ids must have ${n} values for a ${width}×${height} image (got ${ids.length}).`)
  const boxes = leafBoxes(ids, width, height)
  let leafPixels = 0
  for (const b of boxes.values()) leafPixels += b.area
  const meanArea = leafPixels / Math.max(1, boxes.size)
  const reach = Math.ceil(4 * o.seamSigma)
  // The squared distances to the nearest and second-nearest leaf, each leaf's own distance map taken over its box
  // grown by `reach` (every pixel of the leaf lies in it, so the distances within reach are exact).
  const nearest = new Float64Array(n).fill(Infinity)
  const second = new Float64Array(n).fill(Infinity)
  for (const [id, b] of boxes) {
    const x0 = Math.max(0, b.x0 - reach)
    const y0 = Math.max(0, b.y0 - reach)
    const w = Math.min(width - 1, b.x1 + reach) - x0 + 1
    const h = Math.min(height - 1, b.y1 + reach) - y0 + 1
    const offLeaf = new Uint8Array(w * h)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) offLeaf[y * w + x] = ids[(y0 + y) * width + x0 + x] === id ? 0 : 1
    const squared = squaredDistances(offLeaf, w, h)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const d = squared[y * w + x]
        if (d > reach * reach) continue
        const i = (y0 + y) * width + x0 + x
        if (d < nearest[i]) {
          second[i] = nearest[i]
          nearest[i] = d
        } else if (d < second[i]) second[i] = d
      }
  }
  const balance = new Map<number, number>()
  for (const [id, b] of boxes) balance.set(id, Math.min(o.maxBalance, Math.max(1, meanArea / b.area)))
  const out = new Float32Array(n)
  const twoSigmaSquared = 2 * o.seamSigma * o.seamSigma
  for (let i = 0; i < n; i++) out[i] = (ids[i] ? balance.get(ids[i])! : 1) + o.seam * Math.exp(-second[i] / twoSigmaSquared)
  return out
}

/** Each leaf's bounding box and area in pixels. */
function leafBoxes(ids: ArrayLike<number>, width: number, height: number): Map<number, { x0: number; y0: number; x1: number; y1: number; area: number }> {
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number; area: number }>()
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const id = ids[y * width + x]
      if (!id) continue
      const b = boxes.get(id)
      if (!b) boxes.set(id, { x0: x, y0: y, x1: x, y1: y, area: 1 })
      else {
        if (x < b.x0) b.x0 = x
        if (x > b.x1) b.x1 = x
        if (y > b.y1) b.y1 = y
        b.area++
      }
    }
  return boxes
}

/**
 * Squared Euclidean distance of each pixel to the nearest pixel where `inside` is 0 (Felzenszwalb & Huttenlocher's
 * two-pass transform); Infinity when there is none.
 */
function squaredDistances(inside: Uint8Array, w: number, h: number): Float64Array {
  const d = new Float64Array(w * h)
  for (let i = 0; i < d.length; i++) d[i] = inside[i] ? Infinity : 0
  const line = new Float64Array(Math.max(w, h))
  const result = new Float64Array(Math.max(w, h))
  const v = new Int32Array(Math.max(w, h))
  const z = new Float64Array(Math.max(w, h) + 1)
  const pass = (length: number, get: (k: number) => number, set: (k: number, value: number) => void) => {
    for (let k = 0; k < length; k++) line[k] = get(k)
    let k = -1
    for (let q = 0; q < length; q++) {
      if (line[q] === Infinity) continue
      if (k < 0) {
        k = 0
        v[0] = q
        z[0] = -Infinity
        z[1] = Infinity
        continue
      }
      let s = (line[q] + q * q - (line[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
      while (s <= z[k]) {
        k--
        if (k < 0) break
        s = (line[q] + q * q - (line[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
      }
      if (k < 0) {
        k = 0
        v[0] = q
        z[0] = -Infinity
        z[1] = Infinity
        continue
      }
      k++
      v[k] = q
      z[k] = s
      z[k + 1] = Infinity
    }
    if (k < 0) {
      for (let q = 0; q < length; q++) set(q, Infinity)
      return
    }
    let j = 0
    for (let q = 0; q < length; q++) {
      while (z[j + 1] < q) j++
      result[q] = (q - v[j]) * (q - v[j]) + line[v[j]]
    }
    for (let q = 0; q < length; q++) set(q, result[q])
  }
  for (let x = 0; x < w; x++)
    pass(
      h,
      (k) => d[k * w + x],
      (k, value) => (d[k * w + x] = value)
    )
  for (let y = 0; y < h; y++)
    pass(
      w,
      (k) => d[y * w + k],
      (k, value) => (d[y * w + k] = value)
    )
  return d
}

/**
 * The leaves of one photo from a prediction of a network that separates leaves (its leaf probabilities and leaf
 * centres): the one way a network's output becomes leaves.
 */
export function separateLeaves(map: ProbabilityMap, o: SeparateOptions = {}): LeafInstances {
  const { width, height, data: leaf, centre } = map
  const n = width * height
  if (!centre) throw new Error('This prediction has no leaf centres: its model does not separate leaves.')
  if (leaf.length !== n || centre.length !== n)
    throw new Error(`The leaf and centre maps must have ${n} values for a ${width}×${height} photo (got ${leaf.length} and ${centre.length}).`)
  const threshold = o.threshold ?? 0.5
  const seedLevel = o.seedLevel ?? SEED_LEVEL
  const minPixels = o.minPixels ?? Math.max(4, Math.round(n / 4000))
  const isLeaf = new Uint8Array(n)
  for (let i = 0; i < n; i++) isLeaf[i] = isPredictedLeaf(leaf[i], threshold) ? 1 : 0

  // Seeds: connected pieces of leaf near leaf centres, large enough.
  const ids = new Uint16Array(n)
  const seedOf = labelComponents(n, width, (i) => isLeaf[i] === 1 && centre[i] >= seedLevel)
  let count = 0
  const seedIds = new Map<number, number>()
  for (const [component, size] of seedOf.sizes) if (size >= minPixels && count < 65535) seedIds.set(component, ++count)
  for (let i = 0; i < n; i++) {
    const id = seedIds.get(seedOf.labels[i])
    if (id !== undefined) ids[i] = id
  }

  // Grow: a priority flood over leaf pixels, the centre value (in 256 levels, highest first) as the priority. A
  // pixel is queued at its own level, or at the current one when that comes later, so the flood never runs backwards.
  const buckets: number[][] = Array.from({ length: LEVELS }, () => [])
  const queued = new Uint8Array(n)
  const level = (i: number) => Math.min(LEVELS - 1, Math.max(0, Math.floor((1 - centre[i]) * LEVELS)))
  const enqueue = (j: number, atLeast: number) => {
    if (j < 0 || queued[j] || ids[j] || !isLeaf[j]) return
    queued[j] = 1
    buckets[Math.max(atLeast, level(j))].push(j)
  }
  for (let i = 0; i < n; i++) if (ids[i]) for (const j of neighbours(i, width, n)) enqueue(j, 0)
  for (let l = 0; l < LEVELS; l++) {
    const bucket = buckets[l]
    for (let k = 0; k < bucket.length; k++) {
      const i = bucket[k]
      // Join a neighbouring leaf already reached (ties fall on a seam, where either is right).
      for (const j of neighbours(i, width, n)) if (j >= 0 && ids[j]) ids[i] = ids[j]
      for (const j of neighbours(i, width, n)) enqueue(j, l)
    }
    bucket.length = 0
  }

  // Leaf blobs no seed reached: a leaf each when large enough.
  const rest = labelComponents(n, width, (i) => isLeaf[i] === 1 && ids[i] === 0)
  const restIds = new Map<number, number>()
  for (const [component, size] of rest.sizes) if (size >= minPixels && count < 65535) restIds.set(component, ++count)
  for (let i = 0; i < n; i++) {
    const id = restIds.get(rest.labels[i])
    if (id !== undefined) ids[i] = id
  }
  return { width, height, ids, count }
}

/** The connected pieces (4-neighbours) of the pixels where `inside` holds: a label per pixel (0 outside) and each piece's size. */
export function labelComponents(n: number, width: number, inside: (i: number) => boolean): { labels: Int32Array; sizes: Map<number, number> } {
  const labels = new Int32Array(n)
  const sizes = new Map<number, number>()
  const stack: number[] = []
  let next = 0
  for (let start = 0; start < n; start++) {
    if (labels[start] || !inside(start)) continue
    const label = ++next
    let size = 0
    labels[start] = label
    stack.push(start)
    while (stack.length) {
      const i = stack.pop()!
      size++
      for (const j of neighbours(i, width, n)) {
        if (j >= 0 && !labels[j] && inside(j)) {
          labels[j] = label
          stack.push(j)
        }
      }
    }
    sizes.set(label, size)
  }
  return { labels, sizes }
}

/** The 4 neighbours of pixel i, -1 for those outside the image. */
function neighbours(i: number, width: number, n: number): [number, number, number, number] {
  const x = i % width
  return [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i >= width ? i - width : -1, i < n - width ? i + width : -1]
}
