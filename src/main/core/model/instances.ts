// Leaves from the output of a network that separates leaves (unet.ts `instances`): per pixel, the probability of
// leaf and of the band where two leaves touch. Seeds are the leaf pixels off the band, split into connected
// pieces (one per leaf); small pieces are dropped as noise. The seeds then grow over the leaf mask, lowest band
// probability first (a seeded watershed on the band map), so each leaf pixel joins the seed it reaches without
// climbing the band between two leaves. Leaf pixels no seed reaches (a blob with no seed) become leaves of
// their own when they are large enough. Pure TypeScript: no tfjs, no OpenCV.
import { isPredictedLeaf } from './mask'
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
  /** Off the band where its probability is below this; default BAND_THRESHOLD. */
  bandThreshold?: number
  /** Seeds, and seedless blobs, smaller than this many pixels are dropped; default 1/4000 of the image, at least 4. */
  minPixels?: number
}

const LEVELS = 256

/**
 * The band is two or three pixels wide, so the network rarely gives it a probability above 0.5 even where it sees
 * it (on generated touching discs its peak was about 0.45); a pixel is taken as band from 0.25.
 */
export const BAND_THRESHOLD = 0.25

/** The leaves of one photo from its leaf and band probabilities. */
export function separateLeaves(leaf: Float32Array, band: Float32Array, width: number, height: number, o: SeparateOptions = {}): LeafInstances {
  const n = width * height
  if (leaf.length !== n || band.length !== n) throw new Error(`The leaf and band maps must have ${n} values for a ${width}×${height} photo (got ${leaf.length} and ${band.length}).`)
  const threshold = o.threshold ?? 0.5
  const bandThreshold = o.bandThreshold ?? BAND_THRESHOLD
  const minPixels = o.minPixels ?? Math.max(4, Math.round(n / 4000))
  const isLeaf = new Uint8Array(n)
  for (let i = 0; i < n; i++) isLeaf[i] = isPredictedLeaf(leaf[i], threshold) ? 1 : 0

  // Seeds: connected pieces of leaf off the band, large enough.
  const ids = new Uint16Array(n)
  const seedOf = labelComponents(n, width, (i) => isLeaf[i] === 1 && band[i] < bandThreshold)
  let count = 0
  const seedIds = new Map<number, number>()
  for (const [component, size] of seedOf.sizes) if (size >= minPixels && count < 65535) seedIds.set(component, ++count)
  for (let i = 0; i < n; i++) {
    const id = seedIds.get(seedOf.labels[i])
    if (id !== undefined) ids[i] = id
  }

  // Grow: a priority flood over leaf pixels, the band probability (in 256 levels) as the priority. A pixel is
  // queued at its own level, or at the current one when that is higher, so the flood never runs backwards.
  const buckets: number[][] = Array.from({ length: LEVELS }, () => [])
  const queued = new Uint8Array(n)
  const enqueue = (j: number, atLeast: number) => {
    if (j < 0 || queued[j] || ids[j] || !isLeaf[j]) return
    queued[j] = 1
    buckets[Math.max(atLeast, Math.min(LEVELS - 1, Math.floor(band[j] * LEVELS)))].push(j)
  }
  for (let i = 0; i < n; i++) if (ids[i]) for (const j of neighbours(i, width, n)) enqueue(j, 0)
  for (let l = 0; l < LEVELS; l++) {
    const bucket = buckets[l]
    for (let k = 0; k < bucket.length; k++) {
      const i = bucket[k]
      // Join a neighbouring leaf already reached (ties fall on the crest of the band, where either is right).
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

/** The leaf ids of a prediction at `threshold`, from a network that separates leaves; undefined for any other. */
export function predictedLeaves(map: ProbabilityMap, threshold: number): Uint16Array | undefined {
  return map.band && separateLeaves(map.data, map.band, map.width, map.height, { threshold }).ids
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
