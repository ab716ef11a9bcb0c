// The box-and-click assist: GrabCut (opencv-wasm) with each click a hard constraint, as in the standard
// interactive-segmentation protocol: 5 iterations from the box, then per click a disk of 5 px set to definite
// leaf or background and 3 more iterations from the mask as it stands. A run's probabilities can replace the
// box as the start (confident pixels definite, the rest probable). Proposals of one photo are replayed from a
// kept state: adding a click to the same box costs one click's iterations, not all of them again.
// On a large photo GrabCut works on the region around the box and the clicks (outside it is background anyway):
// over the whole of a 4000×3000 photo opencv-wasm runs out of memory.
import type { AssistBox, AssistClick } from '../../../shared/api/labelling'
import type { Raster } from '../imaging/raster'
import { opencv, type OpenCV } from '../imaging/opencv'

export const clickRadius = 5
export const boxIterations = 5
export const clickIterations = 3
/** Photos up to this many pixels are worked on whole (as the reference protocol does); larger ones by region. */
export const wholePhotoPixels = 1_000_000
/** The most pixels GrabCut works on at once. */
export const maxRegionPixels = 4_000_000
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
  /** Where in the photo GrabCut works, and the photo's pixels there. */
  region: Region
  image: OpenCV
  clicks: AssistClick[]
  mask: OpenCV
  bgd: OpenCV
  fgd: OpenCV
}

export class GrabCutAssist {
  private readonly cv = opencv()
  private readonly image: OpenCV
  private kept: KeptState | null = null

  /** `photo` must be 3-channel RGB. */
  constructor(readonly photo: Raster) {
    if (photo.channels !== 3) throw new Error('GrabCut needs an RGB photo')
    this.image = this.cv.matFromArray(photo.height, photo.width, this.cv.CV_8UC3, photo.data)
  }

  /** The proposed mask (row-major, 0 or 255) for this start and these clicks. */
  propose(start: AssistStart, clicks: AssistClick[]): Uint8Array {
    const { width, height } = this.photo
    const startKey = JSON.stringify([start.box ?? null, start.probabilitiesKey ?? null])
    const kept = this.kept
    for (const click of clicks) {
      if (click.x < 0 || click.y < 0 || click.x >= width || click.y >= height) throw new Error(`The click at (${click.x}, ${click.y}) is outside the ${width}×${height} photo.`)
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
    const { region } = state
    for (const click of clicks.slice(state.clicks.length)) {
      state.clicks.push(click)
      // outside the region everything is background already: a background click there changes nothing
      if (!inside(click, region)) continue
      const value = click.leaf ? this.cv.GC_FGD : this.cv.GC_BGD
      this.cv.circle(state.mask, new this.cv.Point(Math.round(click.x) - region.x, Math.round(click.y) - region.y), clickRadius, new this.cv.Scalar(value), -1)
      this.iterate(state, clickIterations)
    }
    // GrabCut's labels → a leaf mask: definite or probable leaf is leaf
    const labels = state.mask.data as Uint8Array
    const out = new Uint8Array(width * height)
    for (let y = 0; y < region.height; y++) {
      for (let x = 0; x < region.width; x++) {
        const v = labels[y * region.width + x]
        if (v === 1 || v === 3) out[(y + region.y) * width + x + region.x] = 255
      }
    }
    return out
  }

  /** The whole photo, or on a large one the box and the leaf clicks with a margin of half their larger side. */
  private regionFor(start: AssistStart, clicks: AssistClick[]): Region {
    const { width, height } = this.photo
    if (width * height <= wholePhotoPixels || !start.box) return { x: 0, y: 0, width, height }
    const b = start.box
    let x0 = b.x, y0 = b.y, x1 = b.x + b.width, y1 = b.y + b.height
    for (const c of clicks.filter((c) => c.leaf)) {
      x0 = Math.min(x0, c.x); y0 = Math.min(y0, c.y); x1 = Math.max(x1, c.x + 1); y1 = Math.max(y1, c.y + 1)
    }
    const margin = Math.max(32, 0.5 * Math.max(x1 - x0, y1 - y0))
    const r = clampBox({ x: x0 - margin, y: y0 - margin, width: x1 - x0 + 2 * margin, height: y1 - y0 + 2 * margin }, width, height)
    if (r.width * r.height > maxRegionPixels) {
      throw new Error(`The box is too large for the assist on this ${width}×${height} photo (${(r.width * r.height / 1e6).toFixed(1)} Mpx around it, at most ${maxRegionPixels / 1e6}): drag a smaller box.`)
    }
    return r
  }

  private begin(start: AssistStart, startKey: string, region: Region): KeptState {
    const cv = this.cv
    const { width, height } = this.photo
    const whole = region.width === width && region.height === height
    const image = whole ? this.image : this.image.roi(new cv.Rect(region.x, region.y, region.width, region.height)).clone()
    const state: KeptState = { startKey, region, image, clicks: [], mask: new cv.Mat(), bgd: new cv.Mat(), fgd: new cv.Mat() }
    const box = start.box ? clampBox(start.box, width, height) : null
    if (start.probabilities) {
      if (start.probabilities.length !== width * height) throw new Error(`The run's probabilities are not ${width}×${height}, the photo's size.`)
      state.mask.delete()
      state.mask = cv.Mat.zeros(region.height, region.width, cv.CV_8UC1)
      const m = state.mask.data as Uint8Array
      // probability PNG values are floor(p · 256)
      const lo = unsureBand.low * 256
      const hi = unsureBand.high * 256
      for (let ry = 0; ry < region.height; ry++) {
        for (let rx = 0; rx < region.width; rx++) {
          const x = rx + region.x
          const y = ry + region.y
          const outside = box !== null && (x < box.x || y < box.y || x >= box.x + box.width || y >= box.y + box.height)
          const p = start.probabilities[y * width + x]
          m[ry * region.width + rx] = outside || p < lo ? cv.GC_BGD : p >= hi ? cv.GC_FGD : p >= 128 ? cv.GC_PR_FGD : cv.GC_PR_BGD
        }
      }
      this.iterate(state, boxIterations)
    } else if (box) {
      if (box.width < 2 || box.height < 2) throw new Error('The box is too small: drag one at least 2 pixels wide and high over the photo.')
      const rect = new cv.Rect(box.x - region.x, box.y - region.y, box.width, box.height)
      cv.grabCut(state.image, state.mask, rect, state.bgd, state.fgd, boxIterations, cv.GC_INIT_WITH_RECT)
    } else {
      throw new Error('An assist starts from a box or a run: drag a box around the leaves, or choose a run.')
    }
    return state
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
    this.cv.grabCut(state.image, state.mask, new this.cv.Rect(0, 0, 1, 1), state.bgd, state.fgd, iterations, this.cv.GC_INIT_WITH_MASK)
  }

  private dropKept(): void {
    if (!this.kept) return
    if (this.kept.image !== this.image) this.kept.image.delete()
    this.kept.mask.delete()
    this.kept.bgd.delete()
    this.kept.fgd.delete()
    this.kept = null
  }

  dispose(): void {
    this.dropKept()
    this.image.delete()
  }
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

function inside(c: AssistClick, r: Region): boolean {
  return c.x >= r.x && c.y >= r.y && c.x < r.x + r.width && c.y < r.y + r.height
}
