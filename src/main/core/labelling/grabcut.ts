// The box-and-click assist: GrabCut (opencv-wasm) with each click a hard constraint, as in the standard
// interactive-segmentation protocol: 5 iterations from the box, then per click a disk of 5 px set to definite
// leaf or background and 3 more iterations from the mask as it stands. A run's probabilities can replace the
// box as the start (confident pixels definite, the rest probable). Proposals of one photo are replayed from a
// kept state: adding a click to the same box costs one click's iterations, not all of them again.
// From a run's probabilities GrabCut works on the region around what the run does not call sure background and the
// leaf clicks (the rest is background anyway): a plant that fills a tenth of the photo costs about a tenth.
// On a large photo GrabCut works on the region around the box and the clicks (outside it is background anyway),
// and any region over a million pixels is worked on scaled down (the proposal is scaled back up): opencv-wasm's
// memory stays bounded, whatever the photo. Every GrabCut call starts OpenCV's random generator from the same
// seed, so a request's proposal does not depend on the requests before it.
import type { AssistBox, AssistClick } from '../../../shared/api/labelling'
import type { Raster } from '../imaging/raster'
import { opencv, type OpenCV } from '../imaging/opencv'

export const clickRadius = 5
export const boxIterations = 5
export const clickIterations = 3
/** Photos up to this many pixels are worked on whole (as the reference protocol does); larger ones by region. */
export const wholePhotoPixels = 1_000_000
/** The most pixels GrabCut works on at once: a larger region is scaled down to this. */
export const maxWorkPixels = 1_000_000
/** OpenCV's random generator (GrabCut's k-means start) is set to this before every GrabCut call. */
const rngSeed = 0x1eaf
/**
 * Probabilities in this band count as unsure: the review queue orders by their share, and a proposal that starts
 * from a run takes a pixel outside it as definite (on komatsuna this start scored IoU 0.896, against 0.889 with
 * 0.05–0.95 and 0.876 with 0.4–0.6; the run's own mask 0.852).
 */
export const unsureBand = { low: 0.2, high: 0.8 }

/** Where a proposal starts: a box, a run's probabilities (0–255 per pixel, row-major), or both. */
export interface AssistStart {
  box?: AssistBox
  probabilities?: Uint8Array
  /** Identifies the probabilities (run and file), so a kept state is reused only for the same start. */
  probabilitiesKey?: string
}

interface Region {
  x: number
  y: number
  width: number
  height: number
}

interface KeptState {
  startKey: string
  /** Where in the photo GrabCut works (photo pixels), and the size it works at there (at most maxWorkPixels). */
  region: Region
  work: { width: number; height: number }
  clicks: AssistClick[]
  image: OpenCV
  mask: OpenCV
  bgd: OpenCV
  fgd: OpenCV
}

export class GrabCutAssist {
  private readonly cv = opencv()
  private kept: KeptState | null = null

  /** Where the last proposal worked (photo pixels), or null before the first: what a proposal costs follows its area. */
  get workedRegion(): Readonly<Region> | null {
    return this.kept ? { ...this.kept.region } : null
  }

  /**
   * `photo` must be 3-channel RGB. It stays in JavaScript memory; only the working region goes to OpenCV, at most
   * `workPixels` pixels of it.
   */
  constructor(
    readonly photo: Raster,
    private readonly workPixels = maxWorkPixels
  ) {
    if (photo.channels !== 3) throw new Error('GrabCut needs an RGB photo')
  }

  /** The proposed mask (row-major, 0 or 255) for this start and these clicks. */
  propose(start: AssistStart, clicks: AssistClick[]): Uint8Array {
    const { width, height } = this.photo
    const startKey = JSON.stringify([start.box ?? null, start.probabilitiesKey ?? null])
    const kept = this.kept
    for (const click of clicks) {
      if (click.x < 0 || click.y < 0 || click.x >= width || click.y >= height)
        throw new Error(`The click at (${click.x}, ${click.y}) is outside the ${width}×${height} photo.`)
    }
    const reusable =
      kept &&
      kept.startKey === startKey &&
      kept.clicks.length <= clicks.length &&
      kept.clicks.every((c, i) => sameClick(c, clicks[i])) &&
      clicks.every((c) => !c.leaf || inside(c, kept.region))
    let state: KeptState
    if (reusable) state = kept
    else {
      this.dropKept()
      state = this.begin(start, startKey, this.regionFor(start, clicks))
      this.kept = state
    }
    const { region, work } = state
    try {
      for (const click of clicks.slice(state.clicks.length)) {
        // outside the region everything is background already: a background click there changes nothing
        if (inside(click, region)) {
          const value = click.leaf ? this.cv.GC_FGD : this.cv.GC_BGD
          const at = new this.cv.Point(
            Math.floor(((click.x - region.x) * work.width) / region.width),
            Math.floor(((click.y - region.y) * work.height) / region.height)
          )
          this.cv.circle(state.mask, at, clickRadius, new this.cv.Scalar(value), -1)
          this.iterate(state, clickIterations)
        }
        state.clicks.push(click)
      }
    } catch (err) {
      // a half-applied state is not kept
      this.dropKept()
      throw cvError(this.cv, err)
    }
    return this.toPhotoMask(state)
  }

  /** GrabCut's labels (definite or probable leaf is leaf) → a mask of the photo, scaled up from the working size. */
  private toPhotoMask(state: KeptState): Uint8Array {
    const { width, height } = this.photo
    const { region, work } = state
    const labels = state.mask.data as Uint8Array
    const leafAt = (wx: number, wy: number): number => {
      const v = labels[wy * work.width + wx]
      return v === 1 || v === 3 ? 1 : 0
    }
    const out = new Uint8Array(width * height)
    const sx = work.width / region.width
    const sy = work.height / region.height
    for (let y = 0; y < region.height; y++) {
      // bilinear over the working pixels' centres, then cut at one half: smooth edges, not blocks
      const fy = Math.min(work.height - 1, Math.max(0, (y + 0.5) * sy - 0.5))
      const y0 = Math.floor(fy)
      const y1 = Math.min(work.height - 1, y0 + 1)
      const ty = fy - y0
      for (let x = 0; x < region.width; x++) {
        let leaf: number
        if (sx === 1 && sy === 1) leaf = leafAt(x, y)
        else {
          const fx = Math.min(work.width - 1, Math.max(0, (x + 0.5) * sx - 0.5))
          const x0 = Math.floor(fx)
          const x1 = Math.min(work.width - 1, x0 + 1)
          const tx = fx - x0
          const top = leafAt(x0, y0) * (1 - tx) + leafAt(x1, y0) * tx
          const bottom = leafAt(x0, y1) * (1 - tx) + leafAt(x1, y1) * tx
          leaf = top * (1 - ty) + bottom * ty >= 0.5 ? 1 : 0
        }
        if (leaf) out[(y + region.y) * width + x + region.x] = 255
      }
    }
    return out
  }

  /**
   * Where GrabCut works. From a run's probabilities: around the pixels the run is not sure are background (cut to
   * the box when there is one) and the leaf clicks — elsewhere the start is sure background, which GrabCut keeps
   * anyway, so a small plant in a large photo costs a small region. From a box: the whole photo, or on a large one
   * the box and the leaf clicks. Either with a margin of background around it.
   */
  private regionFor(start: AssistStart, clicks: AssistClick[]): Region {
    const { width, height } = this.photo
    const whole = { x: 0, y: 0, width, height }
    let bounds: Region | null
    let margin: (b: Region) => number
    if (start.probabilities && start.probabilities.length === width * height) {
      bounds = unsureBackgroundBounds(start.probabilities, width, height, start.box ? clampBox(start.box, width, height) : whole)
      margin = (b) => Math.max(16, 0.25 * Math.max(b.width, b.height))
    } else {
      if (width * height <= wholePhotoPixels || !start.box) return whole
      bounds = clampBox(start.box, width, height)
      margin = (b) => Math.max(32, 0.5 * Math.max(b.width, b.height))
    }
    for (const c of clicks.filter((c) => c.leaf)) bounds = union(bounds, { x: Math.floor(c.x), y: Math.floor(c.y), width: 1, height: 1 })
    // nothing the run or a click calls leaf: GrabCut has nothing to model, the whole photo stays background
    if (!bounds) return whole
    const m = margin(bounds)
    return clampBox({ x: bounds.x - m, y: bounds.y - m, width: bounds.width + 2 * m, height: bounds.height + 2 * m }, width, height)
  }

  private begin(start: AssistStart, startKey: string, region: Region): KeptState {
    const cv = this.cv
    const { width, height } = this.photo
    const box = start.box ? clampBox(start.box, width, height) : null
    if (!start.probabilities) {
      if (!box) throw new Error('An assist starts from a box or a run: drag a box around the leaves, or choose a run.')
      if (box.width < 2 || box.height < 2) throw new Error('The box is too small: drag one at least 2 pixels wide and high over the photo.')
    } else if (start.probabilities.length !== width * height) throw new Error(`The run's probabilities are not ${width}×${height}, the photo's size.`)
    const scale = Math.min(1, Math.sqrt(this.workPixels / (region.width * region.height)))
    const work = { width: Math.max(1, Math.round(region.width * scale)), height: Math.max(1, Math.round(region.height * scale)) }
    const sx = work.width / region.width
    const sy = work.height / region.height
    const state: KeptState = { startKey, region, work, clicks: [], image: null, mask: null, bgd: null, fgd: null }
    try {
      state.image = cv.matFromArray(work.height, work.width, cv.CV_8UC3, scaledPixels(this.photo, region, work))
      state.bgd = new cv.Mat()
      state.fgd = new cv.Mat()
      if (start.probabilities) {
        state.mask = cv.Mat.zeros(work.height, work.width, cv.CV_8UC1)
        const m = state.mask.data as Uint8Array
        // probability PNG values are floor(p · 256); each working pixel takes the photo pixel at its centre
        const lo = unsureBand.low * 256
        const hi = unsureBand.high * 256
        for (let wy = 0; wy < work.height; wy++) {
          const y = region.y + Math.min(region.height - 1, Math.floor((wy + 0.5) / sy))
          for (let wx = 0; wx < work.width; wx++) {
            const x = region.x + Math.min(region.width - 1, Math.floor((wx + 0.5) / sx))
            const outside = box !== null && (x < box.x || y < box.y || x >= box.x + box.width || y >= box.y + box.height)
            const p = start.probabilities[y * width + x]
            m[wy * work.width + wx] = outside || p < lo ? cv.GC_BGD : p >= hi ? cv.GC_FGD : p >= 128 ? cv.GC_PR_FGD : cv.GC_PR_BGD
          }
        }
        this.iterate(state, boxIterations)
      } else if (box) {
        state.mask = new cv.Mat()
        const x0 = Math.floor((box.x - region.x) * sx)
        const y0 = Math.floor((box.y - region.y) * sy)
        const rect = new cv.Rect(
          x0,
          y0,
          Math.max(1, Math.min(work.width - x0, Math.round(box.width * sx))),
          Math.max(1, Math.min(work.height - y0, Math.round(box.height * sy)))
        )
        cv.setRNGSeed(rngSeed)
        cv.grabCut(state.image, state.mask, rect, state.bgd, state.fgd, boxIterations, cv.GC_INIT_WITH_RECT)
      }
      return state
    } catch (err) {
      deleteState(state)
      throw cvError(cv, err)
    }
  }

  /** GrabCut from the mask as it stands. It needs both leaf and background in the mask; without one there is nothing to model. */
  private iterate(state: KeptState, iterations: number): void {
    const m = state.mask.data as Uint8Array
    let leaf = false
    let background = false
    for (let i = 0; i < m.length && !(leaf && background); i++) {
      if (m[i] === this.cv.GC_FGD || m[i] === this.cv.GC_PR_FGD) leaf = true
      else background = true
    }
    if (!leaf || !background) return
    this.cv.setRNGSeed(rngSeed)
    this.cv.grabCut(state.image, state.mask, new this.cv.Rect(0, 0, 1, 1), state.bgd, state.fgd, iterations, this.cv.GC_INIT_WITH_MASK)
  }

  private dropKept(): void {
    if (this.kept) deleteState(this.kept)
    this.kept = null
  }

  dispose(): void {
    this.dropKept()
  }
}

function deleteState(state: KeptState): void {
  for (const mat of [state.image, state.mask, state.bgd, state.fgd]) if (mat && !mat.isDeleted()) mat.delete()
}

/** OpenCV's C++ exceptions reach JavaScript as a bare pointer: turn one into its message. */
function cvError(cv: OpenCV, err: unknown): Error {
  if (typeof err !== 'number') return err as Error
  try {
    return new Error(`OpenCV failed: ${cv.exceptionFromPtr(err).msg}`)
  } catch {
    return new Error(`OpenCV failed (error ${err}); the photo may be too large for the assist.`)
  }
}

/** The photo's RGB pixels in `region`, scaled to `work` by averaging the pixels each working pixel covers. */
function scaledPixels(photo: Raster, region: Region, work: { width: number; height: number }): Uint8Array {
  const out = new Uint8Array(work.width * work.height * 3)
  const src = photo.data
  for (let wy = 0; wy < work.height; wy++) {
    const y0 = region.y + Math.floor((wy * region.height) / work.height)
    const y1 = Math.max(y0 + 1, region.y + Math.floor(((wy + 1) * region.height) / work.height))
    for (let wx = 0; wx < work.width; wx++) {
      const x0 = region.x + Math.floor((wx * region.width) / work.width)
      const x1 = Math.max(x0 + 1, region.x + Math.floor(((wx + 1) * region.width) / work.width))
      let r = 0,
        g = 0,
        b = 0
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * photo.width + x) * 3
          r += src[i]
          g += src[i + 1]
          b += src[i + 2]
        }
      }
      const n = (y1 - y0) * (x1 - x0)
      const o = (wy * work.width + wx) * 3
      out[o] = Math.round(r / n)
      out[o + 1] = Math.round(g / n)
      out[o + 2] = Math.round(b / n)
    }
  }
  return out
}

function sameClick(a: AssistClick, b: AssistClick | undefined): boolean {
  return b !== undefined && a.x === b.x && a.y === b.y && a.leaf === b.leaf
}

/** The box cut to the photo, in whole pixels. */
function clampBox(b: AssistBox, width: number, height: number): AssistBox {
  const x0 = Math.max(0, Math.floor(b.x))
  const y0 = Math.max(0, Math.floor(b.y))
  const x1 = Math.min(width, Math.ceil(b.x + b.width))
  const y1 = Math.min(height, Math.ceil(b.y + b.height))
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) }
}

/** The bounds of the pixels inside `within` whose probability is not sure background (below the unsure band), or null. */
function unsureBackgroundBounds(probabilities: Uint8Array, width: number, height: number, within: Region): Region | null {
  const lo = unsureBand.low * 256
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1
  for (let y = within.y; y < within.y + within.height; y++) {
    const row = y * width
    for (let x = within.x; x < within.x + within.width; x++) {
      if (probabilities[row + x] >= lo) {
        if (x < x0) x0 = x
        if (x > x1) x1 = x
        if (y < y0) y0 = y
        y1 = y
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }
}

function union(a: Region | null, b: Region): Region {
  if (!a) return b
  const x = Math.min(a.x, b.x)
  const y = Math.min(a.y, b.y)
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y }
}

function inside(c: AssistClick, r: Region): boolean {
  return c.x >= r.x && c.y >= r.y && c.x < r.x + r.width && c.y < r.y + r.height
}
