// A mask being edited, with per-stroke undo and redo. Pure code (no DOM): the editor draws it, the unit tests
// drive it. Pixels are 0 (background) or 1 (leaf), row-major, at the photo's resolution.
//
// Undo keeps what each stroke changed, not copies of the mask: the bounding box of the pixels it changed,
// with their values before and after. One `committed` buffer mirrors the mask as of the last finished stroke,
// so a stroke's "before" is read from it when the stroke ends, whatever the stroke's shape.

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

/** One undo step: a region of the mask, its pixels before and after. */
export interface RegionChange {
  rect: Rect
  before: Uint8Array
  after: Uint8Array
}

export interface Point {
  x: number
  y: number
}

export const maxUndoSteps = 200

export class EditableMask {
  readonly data: Uint8Array
  private readonly committed: Uint8Array
  private readonly undoStack: RegionChange[] = []
  private readonly redoStack: RegionChange[] = []
  /** Pixels touched by the stroke in progress (null when none is). */
  private stroke: Bounds | null = null
  /** Told which region changed, for redrawing only that. */
  onchange: (rect: Rect) => void = () => {}

  constructor(readonly width: number, readonly height: number, initial?: Uint8Array) {
    this.data = new Uint8Array(width * height)
    if (initial) for (let i = 0; i < initial.length; i++) this.data[i] = initial[i] ? 1 : 0
    this.committed = this.data.slice()
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0
  }
  /** The undo steps kept (each its region's before and after). */
  get history(): readonly RegionChange[] {
    return this.undoStack
  }

  // —— strokes: a brush or eraser drag is one stroke, so one undo step ——

  /** Paint a disk of `radius` pixels (value 1 = leaf, 0 = erase), joined to the previous point of the stroke. */
  paint(from: Point | null, to: Point, radius: number, value: 0 | 1): void {
    const a = from ?? to
    const length = Math.hypot(to.x - a.x, to.y - a.y)
    const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 3)))
    const box = new Bounds()
    for (let s = 0; s <= steps; s++) {
      const t = s / steps
      this.disk(a.x + (to.x - a.x) * t, a.y + (to.y - a.y) * t, radius, value, box)
    }
    this.touched(box)
  }

  /** End the stroke in progress: one undo step for what it changed (none when it changed nothing). */
  endStroke(): RegionChange | null {
    const box = this.stroke
    this.stroke = null
    if (!box || box.empty) return null
    return this.record(box.rect())
  }

  // —— whole operations: each is one undo step ——

  /** Fill (value 1) or cut (value 0) the inside of a closed polygon. */
  polygon(points: Point[], value: 0 | 1): RegionChange | null {
    if (points.length < 3) return null
    const box = new Bounds()
    const ys = points.map((p) => p.y)
    const y0 = Math.max(0, Math.floor(Math.min(...ys)))
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(...ys)))
    for (let y = y0; y <= y1; y++) {
      // crossings of the row's pixel centres with the polygon's edges (even-odd rule)
      const cy = y + 0.5
      const xs: number[] = []
      for (let i = 0; i < points.length; i++) {
        const p = points[i]
        const q = points[(i + 1) % points.length]
        if ((p.y <= cy && q.y > cy) || (q.y <= cy && p.y > cy)) xs.push(p.x + ((cy - p.y) / (q.y - p.y)) * (q.x - p.x))
      }
      xs.sort((a, b) => a - b)
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(0, Math.ceil(xs[k] - 0.5))
        const xb = Math.min(this.width - 1, Math.floor(xs[k + 1] - 0.5))
        for (let x = xa; x <= xb; x++) this.set(x, y, value, box)
      }
    }
    return this.finish(box)
  }

  /** Background enclosed by leaf (not reaching the mask's border) becomes leaf. */
  fillHoles(): RegionChange | null {
    const outside = this.backgroundReachingBorder()
    const box = new Bounds()
    for (let i = 0; i < this.data.length; i++) if (this.data[i] === 0 && !outside[i]) this.set(i % this.width, Math.floor(i / this.width), 1, box)
    return this.finish(box)
  }

  /** Leaf pieces (8-connected) smaller than `minPixels` become background. */
  removeSpecks(minPixels: number): RegionChange | null {
    const { width, height, data } = this
    const label = new Int32Array(width * height).fill(-1)
    const box = new Bounds()
    const queue = new Int32Array(width * height)
    for (let start = 0; start < data.length; start++) {
      if (data[start] !== 1 || label[start] !== -1) continue
      let head = 0
      let tail = 0
      queue[tail++] = start
      label[start] = start
      while (head < tail) {
        const i = queue[head++]
        const x = i % width
        const y = (i - x) / width
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx
            const ny = y + dy
            if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue
            const j = ny * width + nx
            if (data[j] === 1 && label[j] === -1) {
              label[j] = start
              queue[tail++] = j
            }
          }
        }
      }
      if (tail < minPixels) for (let k = 0; k < tail; k++) this.set(queue[k] % width, Math.floor(queue[k] / width), 0, box)
    }
    return this.finish(box)
  }

  clear(): RegionChange | null {
    return this.replace(new Uint8Array(this.data.length))
  }

  /** Replace the whole mask (an accepted proposal): one undo step covering what changed. */
  replace(next: Uint8Array): RegionChange | null {
    const box = new Bounds()
    for (let i = 0; i < next.length; i++) this.set(i % this.width, Math.floor(i / this.width), next[i] ? 1 : 0, box)
    return this.finish(box)
  }

  // —— history ——

  undo(): RegionChange | null {
    this.endStroke()
    const change = this.undoStack.pop()
    if (!change) return null
    this.write(change.rect, change.before)
    this.redoStack.push(change)
    return change
  }

  redo(): RegionChange | null {
    this.endStroke()
    const change = this.redoStack.pop()
    if (!change) return null
    this.write(change.rect, change.after)
    this.undoStack.push(change)
    return change
  }

  /** The mask as 0/255 bytes (what is saved). */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.data, (v) => v * 255)
  }

  // —— internals ——

  private disk(cx: number, cy: number, radius: number, value: 0 | 1, box: Bounds): void {
    const r2 = radius * radius
    const y0 = Math.max(0, Math.floor(cy - radius))
    const y1 = Math.min(this.height - 1, Math.ceil(cy + radius))
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - cy
      if (dy * dy > r2) continue
      const half = Math.sqrt(r2 - dy * dy)
      const xa = Math.max(0, Math.ceil(cx - half - 0.5))
      const xb = Math.min(this.width - 1, Math.floor(cx + half - 0.5))
      for (let x = xa; x <= xb; x++) this.set(x, y, value, box)
    }
  }

  private set(x: number, y: number, value: 0 | 1, box: Bounds): void {
    const i = y * this.width + x
    if (this.data[i] === value) return
    this.data[i] = value
    box.add(x, y)
  }

  private touched(box: Bounds): void {
    if (box.empty) return
    this.stroke = (this.stroke ?? new Bounds()).merge(box)
    this.onchange(box.rect())
  }

  private finish(box: Bounds): RegionChange | null {
    this.endStroke()
    if (box.empty) return null
    this.onchange(box.rect())
    return this.record(box.rect())
  }

  /** Record the region's before (from `committed`) and after (from `data`) as one undo step. */
  private record(rect: Rect): RegionChange | null {
    const before = this.read(this.committed, rect)
    const after = this.read(this.data, rect)
    let same = true
    for (let i = 0; i < before.length && same; i++) if (before[i] !== after[i]) same = false
    if (same) return null // painted over and erased back within one stroke
    this.copyInto(this.committed, rect, after)
    const change = { rect, before, after }
    this.undoStack.push(change)
    if (this.undoStack.length > maxUndoSteps) this.undoStack.shift()
    this.redoStack.length = 0
    return change
  }

  private write(rect: Rect, pixels: Uint8Array): void {
    this.copyInto(this.data, rect, pixels)
    this.copyInto(this.committed, rect, pixels)
    this.onchange(rect)
  }

  private read(source: Uint8Array, r: Rect): Uint8Array {
    const out = new Uint8Array(r.width * r.height)
    for (let y = 0; y < r.height; y++) out.set(source.subarray((r.y + y) * this.width + r.x, (r.y + y) * this.width + r.x + r.width), y * r.width)
    return out
  }

  private copyInto(target: Uint8Array, r: Rect, pixels: Uint8Array): void {
    for (let y = 0; y < r.height; y++) target.set(pixels.subarray(y * r.width, (y + 1) * r.width), (r.y + y) * this.width + r.x)
  }

  /** Background pixels connected (4-neighbours) to the mask's border. */
  private backgroundReachingBorder(): Uint8Array {
    const { width, height, data } = this
    const seen = new Uint8Array(width * height)
    const queue = new Int32Array(width * height)
    let tail = 0
    const push = (i: number) => {
      if (data[i] === 0 && !seen[i]) {
        seen[i] = 1
        queue[tail++] = i
      }
    }
    for (let x = 0; x < width; x++) {
      push(x)
      push((height - 1) * width + x)
    }
    for (let y = 0; y < height; y++) {
      push(y * width)
      push(y * width + width - 1)
    }
    for (let head = 0; head < tail; head++) {
      const i = queue[head]
      const x = i % width
      if (x > 0) push(i - 1)
      if (x < width - 1) push(i + 1)
      if (i >= width) push(i - width)
      if (i < width * (height - 1)) push(i + width)
    }
    return seen
  }
}

/** A growing bounding box of pixels. */
class Bounds {
  x0 = Infinity
  y0 = Infinity
  x1 = -Infinity
  y1 = -Infinity
  get empty(): boolean {
    return this.x1 < this.x0
  }
  add(x: number, y: number): void {
    if (x < this.x0) this.x0 = x
    if (x > this.x1) this.x1 = x
    if (y < this.y0) this.y0 = y
    if (y > this.y1) this.y1 = y
  }
  merge(b: Bounds): Bounds {
    if (!b.empty) {
      this.add(b.x0, b.y0)
      this.add(b.x1, b.y1)
    }
    return this
  }
  rect(): Rect {
    return { x: this.x0, y: this.y0, width: this.x1 - this.x0 + 1, height: this.y1 - this.y0 + 1 }
  }
}
