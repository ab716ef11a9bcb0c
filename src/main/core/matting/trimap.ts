// Trimap from a binary leaf mask (workflow step 3):
//   definite foreground = erode(mask, ones(k,k), fgIterations)
//   definite background = not dilate(mask, ones(k,k), bgIterations)
//   the rest unknown.  Values: 0 background, 128 unknown, 255 foreground.
// In 'auto' mode the kernel is 3×3 and the iterations follow the leaves' thickness (see fitTrimapToLeaves).
//
// Border: pixels outside the image are ignored (OpenCV's default border value for erode/dilate),
// so the image edge neither erodes a leaf that touches it nor grows one. Window offsets along each axis
// run from -floor(k/2) to k-1-floor(k/2) (OpenCV's centred anchor; symmetric for odd k).
import { opencv } from '../imaging/opencv'
import { seedTrimapSettings, trimapBounds, type Bound } from '../../../shared/bounds'
import type { TrimapMode, TrimapSettings } from '../../../shared/domain'

export const TRIMAP_BACKGROUND = 0
export const TRIMAP_UNKNOWN = 128
export const TRIMAP_FOREGROUND = 255

export interface TrimapOptions {
  /** 'auto': fit the unknown band to this mask's leaves (the numbers below are ignored); default 'fixed'. */
  mode?: TrimapMode
  /** Side of the square structuring element (ones(k,k)); default in shared/bounds.ts. */
  kernelSize?: number
  /** Erosion iterations that shrink the mask to definite foreground. */
  fgIterations?: number
  /** Dilation iterations; outside the dilated mask is definite background. */
  bgIterations?: number
}

export type ResolvedTrimapOptions = TrimapSettings

export function resolveTrimapOptions(options: TrimapOptions = {}): ResolvedTrimapOptions {
  const resolved = {
    kernelSize: options.kernelSize ?? seedTrimapSettings.kernelSize,
    fgIterations: options.fgIterations ?? seedTrimapSettings.fgIterations,
    bgIterations: options.bgIterations ?? seedTrimapSettings.bgIterations
  }
  // The API's schemas refuse these first; this guards the callers that come straight here (tests, benches).
  const check = (what: string, value: number, b: Bound) => {
    if (!Number.isInteger(value) || value < b.min || value > b.max) throw new Error(`${what} must be a whole number from ${b.min} to ${b.max} (got ${value}).`)
  }
  check('The trimap kernel size', resolved.kernelSize, trimapBounds.kernelSize)
  check('The number of foreground erosion iterations', resolved.fgIterations, trimapBounds.fgIterations)
  check('The number of background dilation iterations', resolved.bgIterations, trimapBounds.bgIterations)
  return resolved
}

/** The widest band 'auto' makes on each side of the edge, in pixels: the seed's (5×5 kernel, 5 iterations = 10 px), which suits large photos. */
export const AUTO_MAX_BAND = (seedTrimapSettings.fgIterations * (seedTrimapSettings.kernelSize - 1)) / 2
/** The unknown band on each side of the edge, as a share of the thinnest leaf's half-thickness. */
export const AUTO_BAND_SHARE = 0.3

/**
 * 'auto' settings from a mask's chessboard distance transform (distance of each leaf pixel to the nearest
 * non-leaf pixel) and its leaf components: the band is a share of the half-thickness of the thinnest leaf
 * (each component's deepest pixel; specks under 1% of the leaf area are not leaves), at least 1 px and at most
 * the seed's 10 px, and erosion stops short of that leaf's core so that every leaf keeps definite leaf pixels.
 * A 3×3 kernel makes one iteration one pixel.
 */
export function fitTrimapToLeaves(fgDistance: Float32Array, labels: Int32Array, components: number): ResolvedTrimapOptions {
  const depth = new Float32Array(components)
  const area = new Uint32Array(components)
  let leafPixels = 0
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]
    if (c === 0) continue
    area[c]++
    leafPixels++
    if (fgDistance[i] > depth[c]) depth[c] = fgDistance[i]
  }
  let thinnest = Infinity
  for (let c = 1; c < components; c++) if (area[c] > 0 && area[c] >= leafPixels * 0.01) thinnest = Math.min(thinnest, depth[c])
  if (!Number.isFinite(thinnest)) thinnest = 1
  const band = Math.max(1, Math.min(AUTO_MAX_BAND, Math.round(thinnest * AUTO_BAND_SHARE)))
  return { kernelSize: 3, fgIterations: Math.max(0, Math.min(band, thinnest - 1)), bgIterations: band }
}

/** Counts of each trimap class; useful for UI feedback while a slider moves. */
export interface TrimapStats {
  foreground: number
  unknown: number
  background: number
}

/** Thrown when a mask cannot give a usable trimap; the message says why in plain words. */
export class TrimapError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TrimapError'
  }
}

/** A mask pixel is leaf when its value is at least this (masks are 0/255; anti-aliased edges round to the nearer). */
export const LEAF_THRESHOLD = 128

function checkSize(data: Uint8Array, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`The ${what} has an invalid size ${width}×${height}.`)
  if (data.length !== width * height) throw new Error(`The ${what} has ${data.length} pixels but ${width}×${height} = ${width * height} were expected.`)
}

/**
 * Makes trimaps of one image size with OpenCV, keeping its Mats between calls so that redrawing
 * while a slider moves costs little (a few tens of ms for 2 megapixels). Call dispose() when done.
 *
 * For an odd kernel size, n erosions by ones(k,k) keep exactly the pixels whose chessboard distance
 * to the nearest non-leaf pixel exceeds n*(k-1)/2 (the border ignored), so one chessboard distance
 * transform per side replaces the morphology and its cost does not grow with k or n. An even kernel
 * is not centred, so it goes through cv.erode/cv.dilate.
 */
export class TrimapMaker {
  readonly width: number
  readonly height: number
  private readonly cv = opencv()

  private mats: Record<'leaf' | 'notLeaf' | 'fgDistance' | 'bgDistance' | 'eroded' | 'dilated' | 'kernel' | 'labels', any> | undefined

  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`Cannot make trimaps of size ${width}×${height}.`)
    this.width = width
    this.height = height
    const cv = this.cv
    // made one by one: when wasm memory runs out part way, those already made are deleted

    const made: any[] = []
    const mat = (type?: number): unknown => {
      made.push(type === undefined ? new cv.Mat() : new cv.Mat(height, width, type))
      return made[made.length - 1]
    }
    try {
      this.mats = {
        leaf: mat(cv.CV_8UC1),
        notLeaf: mat(cv.CV_8UC1),
        fgDistance: mat(cv.CV_32FC1),
        bgDistance: mat(cv.CV_32FC1),
        eroded: mat(cv.CV_8UC1),
        dilated: mat(cv.CV_8UC1),
        kernel: mat(),
        labels: mat(cv.CV_32SC1)
      }
    } catch (err) {
      for (const m of made) m.delete()
      throw typeof err === 'number' ? new Error(`OpenCV could not make room for a ${width}×${height} trimap (error ${err}).`) : err
    }
  }

  /**
   * Trimap of `mask` (one byte per pixel, leaf >= 128). Throws TrimapError when the mask has no leaf
   * or the unknown band is empty. `out` may be passed to reuse a buffer. `settings` are the values used
   * (in 'auto' mode, those fitted to this mask).
   */
  make(mask: Uint8Array, options: TrimapOptions = {}, out?: Uint8Array): { trimap: Uint8Array; stats: TrimapStats; settings: ResolvedTrimapOptions } {
    const mats = this.mats
    if (!mats) throw new Error('This TrimapMaker was disposed.')
    checkSize(mask, this.width, this.height, 'mask')
    const cv = this.cv
    const n = this.width * this.height

    mats.leaf.data.set(mask)
    cv.threshold(mats.leaf, mats.leaf, LEAF_THRESHOLD - 1, 255, cv.THRESH_BINARY)
    let settings: ResolvedTrimapOptions
    if (options.mode === 'auto') {
      cv.distanceTransform(mats.leaf, mats.fgDistance, cv.DIST_C, 3, cv.CV_32F)
      const components: number = cv.connectedComponents(mats.leaf, mats.labels, 8, cv.CV_32S)
      settings = fitTrimapToLeaves(mats.fgDistance.data32F, mats.labels.data32S, components)
    } else settings = resolveTrimapOptions(options)
    const { kernelSize, fgIterations, bgIterations } = settings

    const trimap = out && out.length === n ? out : new Uint8Array(n)
    let foreground = 0
    let background = 0
    if (kernelSize % 2 === 1) {
      cv.threshold(mats.leaf, mats.notLeaf, 127, 255, cv.THRESH_BINARY_INV)
      cv.distanceTransform(mats.leaf, mats.fgDistance, cv.DIST_C, 3, cv.CV_32F)
      cv.distanceTransform(mats.notLeaf, mats.bgDistance, cv.DIST_C, 3, cv.CV_32F)
      const fgRadius = (fgIterations * (kernelSize - 1)) / 2
      const bgRadius = (bgIterations * (kernelSize - 1)) / 2
      // Views are taken after the OpenCV calls: wasm memory growth detaches older ones.
      const fgDistance: Float32Array = mats.fgDistance.data32F
      const bgDistance: Float32Array = mats.bgDistance.data32F
      for (let i = 0; i < n; i++) {
        if (fgDistance[i] > fgRadius) {
          trimap[i] = TRIMAP_FOREGROUND
          foreground++
        } else if (bgDistance[i] > bgRadius) {
          trimap[i] = TRIMAP_BACKGROUND
          background++
        } else trimap[i] = TRIMAP_UNKNOWN
      }
    } else {
      if (mats.kernel.rows !== kernelSize) {
        mats.kernel.delete()
        mats.kernel = cv.Mat.ones(kernelSize, kernelSize, cv.CV_8U)
      }
      const anchor = new cv.Point(-1, -1)
      const border = cv.morphologyDefaultBorderValue()
      cv.erode(mats.leaf, mats.eroded, mats.kernel, anchor, fgIterations, cv.BORDER_CONSTANT, border)
      cv.dilate(mats.leaf, mats.dilated, mats.kernel, anchor, bgIterations, cv.BORDER_CONSTANT, border)
      const eroded: Uint8Array = mats.eroded.data
      const dilated: Uint8Array = mats.dilated.data
      for (let i = 0; i < n; i++) {
        if (eroded[i] !== 0) {
          trimap[i] = TRIMAP_FOREGROUND
          foreground++
        } else if (dilated[i] === 0) {
          trimap[i] = TRIMAP_BACKGROUND
          background++
        } else trimap[i] = TRIMAP_UNKNOWN
      }
    }
    // Any leaf pixel keeps itself and its neighbourhood out of the background, so all background means no leaf.
    if (background === n) throw new TrimapError('the mask has no leaf pixels (it is all background), so there is nothing to matte')
    const stats = { foreground, unknown: n - foreground - background, background }
    if (stats.unknown === 0)
      throw new TrimapError(
        'the unknown band of the trimap is empty (the leaf fills the whole photo, or both iteration counts are 0), so there is no edge to matte'
      )
    // Without definite leaf pixels the matte would come out all background: say so instead.
    if (stats.foreground === 0)
      throw new TrimapError(
        `the leaf erosions remove every leaf pixel (${kernelSize}×${kernelSize} kernel, ${fgIterations} erosions), so the trimap has no definite leaf; use fewer erosions or a smaller kernel`
      )
    return { trimap, stats, settings }
  }

  dispose(): void {
    if (!this.mats) return
    for (const mat of Object.values(this.mats)) mat.delete()
    this.mats = undefined
  }
}

/** One-off trimap (see TrimapMaker for repeated calls on one image). */
export function makeTrimap(mask: Uint8Array, width: number, height: number, options: TrimapOptions = {}): Uint8Array {
  const maker = new TrimapMaker(width, height)
  try {
    return maker.make(mask, options).trimap
  } finally {
    maker.dispose()
  }
}

/**
 * Checks a trimap read from disk: right size, and only the values 0, 128 and 255.
 * Throws an Error naming `name` and the offending values (with pixel counts).
 */
export function validateTrimap(trimap: Uint8Array, width: number, height: number, name = 'The trimap'): TrimapStats {
  if (trimap.length !== width * height) throw new Error(`${name} has ${trimap.length} pixels but the photo has ${width}×${height} = ${width * height}.`)
  const counts = new Uint32Array(256)
  for (let i = 0; i < trimap.length; i++) counts[trimap[i]]++
  const bad: string[] = []
  for (let v = 0; v < 256; v++) {
    if (counts[v] > 0 && v !== TRIMAP_BACKGROUND && v !== TRIMAP_UNKNOWN && v !== TRIMAP_FOREGROUND)
      bad.push(`${v} (${counts[v]} pixel${counts[v] === 1 ? '' : 's'})`)
  }
  if (bad.length > 0) {
    const shown = bad.length > 8 ? [...bad.slice(0, 8), `and ${bad.length - 8} more values`] : bad
    throw new Error(
      `${name} contains values other than 0 (background), 128 (unknown) and 255 (leaf): ${shown.join(', ')}. ` +
        'Was it saved with smoothing or as a JPEG? Save it as a PNG with exactly those three values.'
    )
  }
  const stats = { foreground: counts[TRIMAP_FOREGROUND], unknown: counts[TRIMAP_UNKNOWN], background: counts[TRIMAP_BACKGROUND] }
  if (stats.unknown === 0) throw new Error(`${name} has no unknown (128) pixels, so there is no edge to matte.`)
  return stats
}
