// Leaf measurements from a binary mask.
//
// Leaves are the connected components of the mask's leaf pixels (value >= 128) with 8-connectivity: pixels that touch
// at a side or a corner belong to the same leaf (a thin diagonal stalk does not split a leaf in two). Components
// smaller than `minLeafAreaPx` are treated as noise: they are not counted as leaves and not included in the area;
// their pixels are reported separately (noisePx) so nothing disappears silently. Touching leaves count as one:
// these are regions, not leaves. With `instances` (the leaves a run that separates leaves found, model/instances.ts),
// each instance is a leaf instead, and the same minimum area applies.
import type { Raster } from '../imaging/raster'
import { opencv } from '../imaging/opencv'
import type { LeafFigures } from '../../../shared/api/prediction'

export interface LeafMeasureOptions {
  /** Smallest component counted as a leaf, in pixels (default 1: every component counts). */
  minLeafAreaPx?: number
  /** Image scale in pixels per millimetre; when given, areas are also reported in mm². */
  pixelsPerMm?: number
  /** Name used in error messages. */
  photo?: string
  /** Leaf ids per pixel (0 = background) from a run that separates leaves: leaves are these, not connected regions. */
  instances?: Uint16Array
}

export interface Leaf {
  areaPx: number
  areaMm2: number | null
  /** Bounding box, in pixels. */
  left: number
  top: number
  width: number
  height: number
}

export interface LeafMeasurement extends LeafFigures {
  /** Counted leaves, largest first. */
  leaves: Leaf[]
  /** Leaf pixels in components smaller than the minimum, left out of areaPx and leafCount. */
  noisePx: number
  minLeafAreaPx: number
  pixelsPerMm: number | null
  /** leafCount counts leaves told apart (from instances), not connected regions of the mask. */
  leavesSeparated: boolean
}

export interface LeafComponents {
  /** Per pixel, its component's label (0 = background). */
  labels: Int32Array
  /** Labels of the components counted as leaves (at least the minimum area). */
  leafLabels: number[]
  leaves: Omit<Leaf, 'areaMm2'>[]
  noisePx: number
}

/** The mask's 8-connected components (or the given leaf instances), split into leaves and noise by the minimum area. */
export function leafComponents(mask: Raster, minLeafAreaPx: number, photo = 'the mask', instances?: Uint16Array): LeafComponents {
  if (mask.channels !== 1) throw new Error(`${photo} must be a one-channel (gray) mask, it has ${mask.channels} channels`)
  if (mask.width < 1 || mask.height < 1) throw new Error(`${photo} has no pixels`)
  if (!(minLeafAreaPx >= 0 && Number.isFinite(minLeafAreaPx))) throw new Error(`The minimum leaf area must be 0 or more pixels, got ${minLeafAreaPx}`)
  if (instances) return instanceComponents(mask, instances, minLeafAreaPx, photo)
  const cv = opencv()
  const binary = new cv.Mat(mask.height, mask.width, cv.CV_8UC1)
  const labels = new cv.Mat()
  const stats = new cv.Mat()
  const centroids = new cv.Mat()
  const leaves: Omit<Leaf, 'areaMm2'>[] = []
  const leafLabels: number[] = []
  let noisePx = 0
  try {
    const data: Uint8Array = binary.data
    for (let i = 0; i < data.length; i++) data[i] = mask.data[i] >= 128 ? 255 : 0
    const count: number = cv.connectedComponentsWithStats(binary, labels, stats, centroids, 8, cv.CV_32S)
    const s: Int32Array = stats.data32S
    const columns: number = stats.cols
    for (let label = 1; label < count; label++) {
      const row = label * columns
      const areaPx = s[row + cv.CC_STAT_AREA]
      if (areaPx < minLeafAreaPx) {
        noisePx += areaPx
        continue
      }
      leafLabels.push(label)
      leaves.push({
        areaPx,
        left: s[row + cv.CC_STAT_LEFT],
        top: s[row + cv.CC_STAT_TOP],
        width: s[row + cv.CC_STAT_WIDTH],
        height: s[row + cv.CC_STAT_HEIGHT]
      })
    }
    return { labels: new Int32Array(labels.data32S), leafLabels, leaves, noisePx }
  } finally {
    binary.delete()
    labels.delete()
    stats.delete()
    centroids.delete()
  }
}

/** Leaf instances as components: each id is one leaf, with its area and bounding box. */
function instanceComponents(mask: Raster, ids: Uint16Array, minLeafAreaPx: number, photo: string): LeafComponents {
  if (ids.length !== mask.width * mask.height) throw new Error(`The leaves of ${photo} have ${ids.length} pixels, its mask ${mask.width}×${mask.height}`)
  const boxes = new Map<number, { areaPx: number; left: number; top: number; right: number; bottom: number }>()
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (!id) continue
    const x = i % mask.width
    const y = Math.floor(i / mask.width)
    const b = boxes.get(id)
    if (!b) boxes.set(id, { areaPx: 1, left: x, top: y, right: x, bottom: y })
    else {
      b.areaPx++
      b.left = Math.min(b.left, x)
      b.right = Math.max(b.right, x)
      b.bottom = y
    }
  }
  const leaves: Omit<Leaf, 'areaMm2'>[] = []
  const leafLabels: number[] = []
  let noisePx = 0
  for (const [id, b] of [...boxes].sort((a, b) => a[0] - b[0])) {
    if (b.areaPx < minLeafAreaPx) {
      noisePx += b.areaPx
      continue
    }
    leafLabels.push(id)
    leaves.push({ areaPx: b.areaPx, left: b.left, top: b.top, width: b.right - b.left + 1, height: b.bottom - b.top + 1 })
  }
  return { labels: Int32Array.from(ids), leafLabels, leaves, noisePx }
}

export function measureLeaves(mask: Raster, options: LeafMeasureOptions = {}): LeafMeasurement {
  const photo = options.photo ?? 'the mask'
  const minLeafAreaPx = options.minLeafAreaPx ?? 1
  const pixelsPerMm = options.pixelsPerMm ?? null
  if (pixelsPerMm !== null && !(pixelsPerMm > 0 && Number.isFinite(pixelsPerMm))) {
    throw new Error(`The scale must be a positive number of pixels per millimetre, got ${pixelsPerMm}`)
  }
  const toMm2 = (px: number): number | null => (pixelsPerMm === null ? null : px / (pixelsPerMm * pixelsPerMm))
  const components = leafComponents(mask, minLeafAreaPx, photo, options.instances)
  const { noisePx } = components
  const leaves: Leaf[] = components.leaves.map((l) => ({ ...l, areaMm2: toMm2(l.areaPx) }))
  leaves.sort((a, b) => b.areaPx - a.areaPx)
  const areaPx = leaves.reduce((sum, leaf) => sum + leaf.areaPx, 0)
  return {
    width: mask.width,
    height: mask.height,
    areaPx,
    areaMm2: toMm2(areaPx),
    foregroundFraction: areaPx / (mask.width * mask.height),
    leafCount: leaves.length,
    leaves,
    noisePx,
    minLeafAreaPx,
    pixelsPerMm,
    leavesSeparated: options.instances !== undefined
  }
}
