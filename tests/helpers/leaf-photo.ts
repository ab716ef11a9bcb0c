// A generated leaf photo for the labelling tests: a lobed green leaf on textured soil, its true mask, and
// optionally a yellow-green weed beside it (inside the leaf's box) that a box alone takes for leaf.
import sharp from 'sharp'

export interface LeafPhoto {
  width: number
  height: number
  /** RGB, row-major. */
  rgb: Uint8Array
  /** The leaf (0/255), the weed excluded. */
  truth: Uint8Array
  /** The leaf's bounding box enlarged by 5 % a side (the assist protocol's box). */
  box: { x: number; y: number; width: number; height: number }
  weed: { x: number; y: number; r: number } | null
}

export function leafPhoto(width = 160, height = 120, options: { weed?: boolean; seed?: number } = {}): LeafPhoto {
  const rgb = new Uint8Array(width * height * 3)
  const truth = new Uint8Array(width * height)
  const cx = width * 0.5
  const cy = height * 0.5
  const rx = width * 0.3
  const ry = height * 0.28
  const weed = options.weed ? { x: Math.round(cx + rx * 0.78), y: Math.round(cy - ry * 0.8), r: Math.max(5, Math.round(width / 16)) } : null
  let seed = options.seed ?? 3
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 24
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x - cx) / rx
      const dy = (y - cy) / ry
      const angle = Math.atan2(dy, dx)
      // lobes: the leaf's edge swings in and out five times around
      const inLeaf = dx * dx + dy * dy < (0.82 + 0.18 * Math.cos(5 * angle)) ** 2
      const inWeed = weed !== null && (x - weed.x) ** 2 + (y - weed.y) ** 2 <= weed.r ** 2
      const i = y * width + x
      const [r, g, b] = inLeaf ? [50, 150, 45] : inWeed ? [90, 175, 40] : [120 + ((x * 7 + y * 3) % 17), 90, 60]
      rgb[i * 3] = clamp(r + noise())
      rgb[i * 3 + 1] = clamp(g + noise())
      rgb[i * 3 + 2] = clamp(b + noise())
      if (inLeaf) truth[i] = 255
    }
  }
  return { width, height, rgb, truth, box: protocolBox(truth, width, height), weed }
}

/** The interactive-segmentation protocol's box: the mask's bounding box enlarged by 5 % a side (as grabcut_noc.py computes it). */
export function protocolBox(truth: Uint8Array, width: number, height: number): LeafPhoto['box'] {
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1
  for (let i = 0; i < truth.length; i++) {
    if (!truth[i]) continue
    const x = i % width
    const y = (i - x) / width
    if (x < x0) x0 = x
    if (x > x1) x1 = x
    if (y < y0) y0 = y
    if (y > y1) y1 = y
  }
  const px = Math.floor((x1 - x0) * 0.05) + 1
  const py = Math.floor((y1 - y0) * 0.05) + 1
  x0 = Math.max(0, x0 - px)
  y0 = Math.max(0, y0 - py)
  x1 = Math.min(width - 1, x1 + px)
  y1 = Math.min(height - 1, y1 + py)
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)))
}

export async function writeLeafPhoto(path: string, photo: LeafPhoto): Promise<void> {
  await sharp(Buffer.from(photo.rgb), { raw: { width: photo.width, height: photo.height, channels: 3 } })
    .png()
    .toFile(path)
}

/** Intersection over union of two masks (non-zero = leaf); 1 when both are empty. */
export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0
  let union = 0
  for (let i = 0; i < a.length; i++) {
    const p = a[i] !== 0
    const q = b[i] !== 0
    if (p && q) inter++
    if (p || q) union++
  }
  return union === 0 ? 1 : inter / union
}
