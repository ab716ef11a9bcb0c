// A mask being edited, with per-stroke undo and redo. Pure code (no DOM): the editor draws it, the unit tests
// drive it. Pixels are 0 (background) or a leaf, row-major, at the photo's resolution: 1 for every leaf pixel
// while the mask does not separate its leaves, else the leaf's id (1..255). Separating the leaves (by hand, or
// by the first split or merge) numbers the mask's connected pieces; then a line splits a leaf in two and a click
// merges two.
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

/** One undo step: a region of the mask, its pixels before and after (and whether it separated the leaves). */
export interface RegionChange {
  rect: Rect
  before: Uint8Array
  after: Uint8Array
  separated?: boolean
}

export interface Point {
  x: number
  y: number
}

export const maxUndoSteps = 200
/** Leaf ids are bytes: 0 is background. */
export const maxLeaves = 255

export class EditableMask {
  readonly data: Uint8Array
  private readonly committed: Uint8Array
  private readonly undoStack: RegionChange[] = []
  private readonly redoStack: RegionChange[] = []
  /** Pixels touched by the stroke in progress (null when none is). */
  private stroke: Bounds | null = null
  /** Told which region changed, for redrawing only that. */
  onchange: (rect: Rect) => void = () => {}
  /** Whether the mask separates its leaves (pixels hold leaf ids). */
  leaves: boolean

  /** `initial`: non-zero = leaf; with `leaves`, its values are the leaf ids (1..255). */
  constructor(
    readonly width: number,
    readonly height: number,
    initial?: Uint8Array,
    leaves = false
  ) {
    this.data = new Uint8Array(width * height)
    if (initial) for (let i = 0; i < initial.length; i++) this.data[i] = initial[i] && (leaves ? initial[i] : 1)
    this.committed = this.data.slice()
    this.leaves = leaves
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

  /** Paint a disk of `radius` pixels (a leaf id, or 0 to erase), joined to the previous point of the stroke. */
  paint(from: Point | null, to: Point, radius: number, value: number): void {
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

  /** Fill (a leaf id) or cut (0) the inside of a closed polygon. */
  polygon(points: Point[], value: number): RegionChange | null {
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

  /** Background enclosed by leaf (not reaching the mask's border) becomes leaf: that of the hole's nearest edge. */
  fillHoles(): RegionChange | null {
    const { width, height, data } = this
    const outside = this.backgroundReachingBorder()
    // Grown from every leaf pixel at once, so each hole pixel takes the leaf that reaches it first.
    const fill = data.slice()
    let leaves = 0
    for (let i = 0; i < data.length; i++) if (data[i]) leaves++
    const leaf = new Int32Array(leaves)
    for (let i = 0, k = 0; i < data.length; i++) if (data[i]) leaf[k++] = i
    const queue = new Int32Array(data.length)
    const n = floodFill(width, height, 4, leaf, queue, (j, from) => {
      if (from < 0) return true
      if (fill[j] || outside[j]) return false
      fill[j] = fill[from]
      return true
    })
    const box = new Bounds()
    for (let k = leaf.length; k < n; k++) this.set(queue[k] % width, Math.floor(queue[k] / width), fill[queue[k]], box)
    return this.finish(box)
  }

  /** Leaf pieces (8-connected, of one leaf) smaller than `minPixels` become background. */
  removeSpecks(minPixels: number): RegionChange | null {
    const { width, height, data } = this
    const seen = new Uint8Array(width * height)
    const box = new Bounds()
    const queue = new Int32Array(width * height)
    for (let start = 0; start < data.length; start++) {
      if (data[start] === 0 || seen[start]) continue
      const n = floodFill(width, height, 8, [start], queue, (j) => {
        if (data[j] !== data[start] || seen[j]) return false
        seen[j] = 1
        return true
      })
      if (n < minPixels) for (let k = 0; k < n; k++) this.set(queue[k] % width, Math.floor(queue[k] / width), 0, box)
    }
    return this.finish(box)
  }

  clear(): RegionChange | null {
    return this.replace(new Uint8Array(this.data.length))
  }

  /** Replace the whole mask (an accepted proposal; values as in `data`): one undo step covering what changed. */
  replace(next: Uint8Array): RegionChange | null {
    const box = new Bounds()
    for (let i = 0; i < next.length; i++) this.set(i % this.width, Math.floor(i / this.width), next[i], box)
    return this.finish(box)
  }

  // —— leaves ——

  /** The leaf under a point (0 = background or outside). */
  leafAt(p: Point): number {
    const x = Math.floor(p.x)
    const y = Math.floor(p.y)
    return x < 0 || y < 0 || x >= this.width || y >= this.height ? 0 : this.data[y * this.width + x]
  }

  /** The ids of the leaves present, in order. */
  leafIds(): number[] {
    const seen = new Uint8Array(256)
    for (const v of this.data) seen[v] = 1
    const ids: number[] = []
    for (let v = 1; v < 256; v++) if (seen[v]) ids.push(v)
    return ids
  }

  /** An id no leaf has yet, or null when all 255 are taken. */
  newLeafId(): number | null {
    const ids = this.leafIds()
    const free = ids.length ? ids[ids.length - 1] + 1 : 1
    if (free <= maxLeaves) return free
    for (let v = 1; v <= maxLeaves; v++) if (!ids.includes(v)) return v
    return null
  }

  /** Separate the leaves: each connected piece of the mask becomes a leaf (one undo step). Throws above 255 pieces. */
  separate(): RegionChange | null {
    if (this.leaves) return null
    return this.apply(this.pieces())
  }

  /**
   * Split the leaf the line from `a` to `b` crosses most into two: the pixels the line leaves on its left become a
   * new leaf. Null (nothing changes) when the line does not cut the leaf apart. Separates the leaves first if needed,
   * in the same undo step.
   */
  split(a: Point, b: Point): RegionChange | null {
    const ids = this.leaves ? this.data.slice() : this.pieces()
    const { width, height } = this
    const line = this.linePixels(a, b)
    const crossed = new Map<number, number>()
    for (const i of line) if (ids[i]) crossed.set(ids[i], (crossed.get(ids[i]) ?? 0) + 1)
    const leaf = [...crossed.entries()].sort((p, q) => q[1] - p[1])[0]?.[0]
    if (leaf === undefined) return null
    // The leaf's pieces once the line's pixels are taken out (4-connected, so the line separates them).
    const onLine = new Uint8Array(ids.length)
    for (const i of line) onLine[i] = 1
    const piece = new Int32Array(ids.length).fill(-1)
    const queue = new Int32Array(ids.length)
    const sides: number[] = []
    for (let start = 0; start < ids.length; start++) {
      if (ids[start] !== leaf || onLine[start] || piece[start] !== -1) continue
      const k = sides.length
      const n = floodFill(width, height, 4, [start], queue, (j) => {
        if (ids[j] !== leaf || onLine[j] || piece[j] !== -1) return false
        piece[j] = k
        return true
      })
      // Which side of the line the piece's centre lies on.
      let sx = 0
      let sy = 0
      for (let q = 0; q < n; q++) {
        sx += (queue[q] % width) + 0.5
        sy += Math.floor(queue[q] / width) + 0.5
      }
      sides.push(Math.sign((b.x - a.x) * (sy / n - a.y) - (b.y - a.y) * (sx / n - a.x)))
    }
    if (sides.length < 2 || !sides.includes(-1) || !(sides.includes(1) || sides.includes(0))) return null
    const fresh = this.newIdAfter(ids)
    for (let i = 0; i < ids.length; i++) if (piece[i] >= 0 && sides[piece[i]] < 0) ids[i] = fresh
    return this.apply(ids)
  }

  /** Merge the leaf at `b` into the leaf at `a`. Null when either is background or they are one leaf already. */
  merge(a: Point, b: Point): RegionChange | null {
    const ids = this.leaves ? this.data.slice() : this.pieces()
    const at = (p: Point) => ids[Math.floor(p.y) * this.width + Math.floor(p.x)] ?? 0
    const inside = (p: Point) => p.x >= 0 && p.y >= 0 && p.x < this.width && p.y < this.height
    if (!inside(a) || !inside(b)) return null
    const keep = at(a)
    const gone = at(b)
    if (!keep || !gone || keep === gone) return null
    for (let i = 0; i < ids.length; i++) if (ids[i] === gone) ids[i] = keep
    return this.apply(ids)
  }

  // —— history ——

  undo(): RegionChange | null {
    this.endStroke()
    const change = this.undoStack.pop()
    if (!change) return null
    if (change.separated) this.leaves = false
    this.write(change.rect, change.before)
    this.redoStack.push(change)
    return change
  }

  redo(): RegionChange | null {
    this.endStroke()
    const change = this.redoStack.pop()
    if (!change) return null
    if (change.separated) this.leaves = true
    this.write(change.rect, change.after)
    this.undoStack.push(change)
    return change
  }

  /** The mask as 0/255 bytes (what is saved). */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.data, (v) => (v ? 255 : 0))
  }

  // —— internals ——

  /** The mask's connected pieces (8-connected) numbered 1..n, as leaf ids. Throws above 255. */
  private pieces(): Uint8Array {
    const { width, height, data } = this
    const ids = new Uint8Array(data.length)
    const queue = new Int32Array(data.length)
    let n = 0
    for (let start = 0; start < data.length; start++) {
      if (!data[start] || ids[start]) continue
      if (++n > maxLeaves) throw new Error(`The mask has more than ${maxLeaves} separate pieces; remove the specks first.`)
      const id = n
      floodFill(width, height, 8, [start], queue, (j) => {
        if (!data[j] || ids[j]) return false
        ids[j] = id
        return true
      })
    }
    return ids
  }

  private newIdAfter(ids: Uint8Array): number {
    const used = new Uint8Array(256)
    for (const v of ids) used[v] = 1
    for (let v = 1; v <= maxLeaves; v++) if (!used[v]) return v
    throw new Error(`The mask already has ${maxLeaves} leaves, the most one photo can hold.`)
  }

  /** The pixels a line crosses, 4-connected (so it separates what lies on either side). */
  private linePixels(a: Point, b: Point): number[] {
    const out: number[] = []
    const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) * 4))
    let px = Math.floor(a.x)
    let py = Math.floor(a.y)
    const add = (x: number, y: number) => {
      if (x >= 0 && y >= 0 && x < this.width && y < this.height) out.push(y * this.width + x)
    }
    add(px, py)
    for (let s = 1; s <= steps; s++) {
      const x = Math.floor(a.x + ((b.x - a.x) * s) / steps)
      const y = Math.floor(a.y + ((b.y - a.y) * s) / steps)
      if (x === px && y === py) continue
      if (x !== px && y !== py) add(x, py) // a diagonal step gets a corner pixel
      add(x, y)
      px = x
      py = y
    }
    return out
  }

  /** Make the mask `ids` with its leaves separated: one undo step (which also undoes the separating). */
  private apply(ids: Uint8Array): RegionChange | null {
    const separating = !this.leaves
    const box = new Bounds()
    for (let i = 0; i < ids.length; i++) this.set(i % this.width, Math.floor(i / this.width), ids[i], box)
    this.leaves = true
    if (separating && box.empty) box.add(0, 0) // a mask of one piece separates without changing a pixel
    const change = this.finish(box, separating)
    if (!change) this.leaves = !separating
    return change
  }

  private disk(cx: number, cy: number, radius: number, value: number, box: Bounds): void {
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

  private set(x: number, y: number, value: number, box: Bounds): void {
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

  private finish(box: Bounds, separated = false): RegionChange | null {
    this.endStroke()
    if (box.empty) return null
    this.onchange(box.rect())
    return this.record(box.rect(), separated)
  }

  /** Record the region's before (from `committed`) and after (from `data`) as one undo step. */
  private record(rect: Rect, separated = false): RegionChange | null {
    const before = this.read(this.committed, rect)
    const after = this.read(this.data, rect)
    let same = true
    for (let i = 0; i < before.length && same; i++) if (before[i] !== after[i]) same = false
    if (same && !separated) return null // painted over and erased back within one stroke
    this.copyInto(this.committed, rect, after)
    const change: RegionChange = separated ? { rect, before, after, separated } : { rect, before, after }
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
    const border: number[] = []
    for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x)
    for (let y = 0; y < height; y++) border.push(y * width, y * width + width - 1)
    floodFill(width, height, 4, border, new Int32Array(width * height), (j) => {
      if (data[j] || seen[j]) return false
      seen[j] = 1
      return true
    })
    return seen
  }
}

/** Which neighbours a flood fill spreads to: 4 (left, right, up, down) or 8 (the diagonals too). */
export type Connectivity = 4 | 8

/**
 * The one flood fill of the editor, breadth-first over a width × height image from `seeds` (pixel indices,
 * row-major). `enter(j, from)` says whether pixel j joins, `from` being the pixel it is reached from (-1 for a
 * seed); it must mark the pixels it lets in, since each is asked again from its other neighbours. The pixels that
 * joined fill `queue` from 0 in the order reached, seeds first; returns how many. `queue` is the caller's, so that
 * one buffer serves many fills.
 */
export function floodFill(
  width: number,
  height: number,
  connectivity: Connectivity,
  seeds: ArrayLike<number>,
  queue: Int32Array,
  enter: (j: number, from: number) => boolean
): number {
  let tail = 0
  for (let s = 0; s < seeds.length; s++) if (enter(seeds[s], -1)) queue[tail++] = seeds[s]
  for (let head = 0; head < tail; head++) {
    const i = queue[head]
    const x = i % width
    const left = x > 0
    const right = x < width - 1
    const up = i >= width
    const down = i < width * (height - 1)
    if (left && enter(i - 1, i)) queue[tail++] = i - 1
    if (right && enter(i + 1, i)) queue[tail++] = i + 1
    if (up && enter(i - width, i)) queue[tail++] = i - width
    if (down && enter(i + width, i)) queue[tail++] = i + width
    if (connectivity === 8) {
      if (up && left && enter(i - width - 1, i)) queue[tail++] = i - width - 1
      if (up && right && enter(i - width + 1, i)) queue[tail++] = i - width + 1
      if (down && left && enter(i + width - 1, i)) queue[tail++] = i + width - 1
      if (down && right && enter(i + width + 1, i)) queue[tail++] = i + width + 1
    }
  }
  return tail
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
