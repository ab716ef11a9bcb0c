// The box-and-click assist: GrabCut (opencv-wasm) with each click a hard constraint, as in the standard
// interactive-segmentation protocol: 5 iterations from the box, then per click a disk of 5 px set to definite
// leaf or background and 3 more iterations from the mask as it stands. A run's probabilities can replace the
// box as the start (confident pixels definite, the rest probable). Proposals of one photo are replayed from a
// kept state: adding a click to the same box costs one click's iterations, not all of them again.
import type { AssistBox, AssistClick } from '../../../shared/api/labelling'
import type { Raster } from '../imaging/raster'
import { opencv, type OpenCV } from '../imaging/opencv'

export const clickRadius = 5
export const boxIterations = 5
export const clickIterations = 3
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

interface KeptState {
  startKey: string
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
    const reusable = kept && kept.startKey === startKey && kept.clicks.length <= clicks.length && kept.clicks.every((c, i) => sameClick(c, clicks[i]))
    let state: KeptState
    if (reusable) state = kept
    else {
      this.dropKept()
      state = this.begin(start, startKey)
      this.kept = state
    }
    for (const click of clicks.slice(state.clicks.length)) {
      if (click.x < 0 || click.y < 0 || click.x >= width || click.y >= height) throw new Error(`The click at (${click.x}, ${click.y}) is outside the ${width}×${height} photo.`)
      const value = click.leaf ? this.cv.GC_FGD : this.cv.GC_BGD
      this.cv.circle(state.mask, new this.cv.Point(Math.round(click.x), Math.round(click.y)), clickRadius, new this.cv.Scalar(value), -1)
      this.iterate(state, clickIterations)
      state.clicks.push(click)
    }
    return leafOf(state.mask.data)
  }

  private begin(start: AssistStart, startKey: string): KeptState {
    const cv = this.cv
    const { width, height } = this.photo
    const state: KeptState = { startKey, clicks: [], mask: new cv.Mat(), bgd: new cv.Mat(), fgd: new cv.Mat() }
    if (start.probabilities) {
      if (start.probabilities.length !== width * height) throw new Error(`The run's probabilities are not ${width}×${height}, the photo's size.`)
      state.mask.delete()
      state.mask = cv.Mat.zeros(height, width, cv.CV_8UC1)
      const m = state.mask.data as Uint8Array
      const box = start.box ? clampBox(start.box, width, height) : null
      // probability PNG values are floor(p · 256)
      const lo = unsureBand.low * 256
      const hi = unsureBand.high * 256
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x
          const outside = box !== null && (x < box.x || y < box.y || x >= box.x + box.width || y >= box.y + box.height)
          const p = start.probabilities[i]
          m[i] = outside || p < lo ? cv.GC_BGD : p >= hi ? cv.GC_FGD : p >= 128 ? cv.GC_PR_FGD : cv.GC_PR_BGD
        }
      }
      this.iterate(state, boxIterations)
    } else if (start.box) {
      const b = clampBox(start.box, width, height)
      if (b.width < 2 || b.height < 2) throw new Error('The box is too small: drag one at least 2 pixels wide and high over the photo.')
      cv.grabCut(this.image, state.mask, new cv.Rect(b.x, b.y, b.width, b.height), state.bgd, state.fgd, boxIterations, cv.GC_INIT_WITH_RECT)
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
    this.cv.grabCut(this.image, state.mask, new this.cv.Rect(0, 0, 1, 1), state.bgd, state.fgd, iterations, this.cv.GC_INIT_WITH_MASK)
  }

  private dropKept(): void {
    if (!this.kept) return
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

/** GrabCut's labels → a leaf mask: definite or probable leaf is leaf. */
function leafOf(labels: Uint8Array): Uint8Array {
  const out = new Uint8Array(labels.length)
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1 || labels[i] === 3) out[i] = 255
  return out
}
