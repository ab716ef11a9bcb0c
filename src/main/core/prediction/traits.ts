// Shape and colour traits of each leaf (an 8-connected component of the mask, as in measure.ts) and of all the
// photo's leaves together, the traits plant scientists take from a mask (PlantCV's analyze.size and .color).
//
// Shape, per leaf (formulas also in the README):
//   area_px            pixels of the leaf
//   perimeter_px       length of the outer contour, through the centres of the border pixels (OpenCV findContours,
//                      CHAIN_APPROX_NONE, then arcLength: 1 per side step, √2 per diagonal step)
//   convex_hull_area   area of the convex hull of that contour (contourArea of convexHull)
//   solidity           contour area / convex hull area (both polygons through pixel centres: 1 for a convex shape)
//   bbox_width/height  the bounding box, in pixels
//   ellipse_major/minor  full axes of the ellipse with the leaf's second moments: 4·√λ₁ and 4·√λ₂, λ the
//                      eigenvalues of the pixel coordinates' covariance matrix (a disc of radius r gives 2r)
//   eccentricity       √(1 − λ₂/λ₁): 0 for a disc, towards 1 for a line
// For the whole photo: areas and perimeters summed over its leaves, the hull of all their contours, the bounding
// box and moments of all their pixels. With a scale (pixels per mm) lengths are also in mm and areas in mm².
//
// Colour, of the photo's pixels inside the leaf: mean R, G, B (0–255); the circular mean of the HSV hue (degrees,
// 0–360, grey pixels having none are left out); and from the mean colour R̄, Ḡ, B̄: ExG = 2g − r − b on chromatic
// coordinates (r = R̄ / (R̄ + Ḡ + B̄), …), GLI = (2Ḡ − R̄ − B̄) / (2Ḡ + R̄ + B̄), VARI = (Ḡ − R̄) / (Ḡ + R̄ − B̄)
// (an index whose denominator is 0 is left empty).
import type { Raster } from '../imaging/raster'
import { opencv } from '../imaging/opencv'
import { leafComponents } from './measure'
import type { LeafTraits, Traits } from '../../../shared/api/prediction'

export type { LeafTraits, Traits }

/** Sums over a set of pixels, from which its moments and colour follow. */
class PixelSums {
  n = 0
  x = 0
  y = 0
  xx = 0
  yy = 0
  xy = 0
  r = 0
  g = 0
  b = 0
  hueCos = 0
  hueSin = 0
  left = Infinity
  top = Infinity
  right = -Infinity
  bottom = -Infinity

  add(other: PixelSums): void {
    for (const k of ['n', 'x', 'y', 'xx', 'yy', 'xy', 'r', 'g', 'b', 'hueCos', 'hueSin'] as const) this[k] += other[k]
    this.left = Math.min(this.left, other.left)
    this.top = Math.min(this.top, other.top)
    this.right = Math.max(this.right, other.right)
    this.bottom = Math.max(this.bottom, other.bottom)
  }
}

/** HSV hue in radians of an RGB colour, or null for a grey (no hue). */
export function hueRadians(r: number, g: number, b: number): number | null {
  const max = Math.max(r, g, b)
  const d = max - Math.min(r, g, b)
  if (d === 0) return null
  const sector = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4
  return (sector * Math.PI) / 3
}

/** Greenness indices of a colour (see the header); null where a denominator is 0. */
export function greenness(r: number, g: number, b: number): { exg: number | null; gli: number | null; vari: number | null } {
  const sum = r + g + b
  const ratio = (num: number, den: number) => (den === 0 ? null : num / den)
  return {
    exg: sum === 0 ? null : (2 * g - r - b) / sum,
    gli: ratio(2 * g - r - b, 2 * g + r + b),
    vari: ratio(g - r, g + r - b)
  }
}

function traitsOf(s: PixelSums, contour: { perimeter: number; contourArea: number; hullArea: number }, pixelsPerMm: number | null): Traits {
  const mx = s.x / s.n
  const my = s.y / s.n
  // Covariance of the pixel coordinates, and its eigenvalues.
  const a = s.xx / s.n - mx * mx
  const c = s.yy / s.n - my * my
  const b = s.xy / s.n - mx * my
  const root = Math.sqrt(((a - c) / 2) ** 2 + b * b)
  const l1 = Math.max(0, (a + c) / 2 + root)
  const l2 = Math.max(0, (a + c) / 2 - root)
  const mean = { r: s.r / s.n, g: s.g / s.n, b: s.b / s.n }
  const hue = s.hueCos === 0 && s.hueSin === 0 ? null : ((Math.atan2(s.hueSin, s.hueCos) * 180) / Math.PI + 360) % 360
  const mm = (px: number) => (pixelsPerMm === null ? null : px / pixelsPerMm)
  const mm2 = (px: number) => (pixelsPerMm === null ? null : px / pixelsPerMm ** 2)
  const major = 4 * Math.sqrt(l1)
  const minor = 4 * Math.sqrt(l2)
  return {
    areaPx: s.n,
    perimeterPx: contour.perimeter,
    convexHullAreaPx: contour.hullArea,
    solidity: contour.hullArea > 0 ? contour.contourArea / contour.hullArea : null,
    bboxWidthPx: s.right - s.left + 1,
    bboxHeightPx: s.bottom - s.top + 1,
    ellipseMajorPx: major,
    ellipseMinorPx: minor,
    eccentricity: l1 > 0 ? Math.sqrt(1 - l2 / l1) : 0,
    areaMm2: mm2(s.n),
    perimeterMm: mm(contour.perimeter),
    convexHullAreaMm2: mm2(contour.hullArea),
    ellipseMajorMm: mm(major),
    ellipseMinorMm: mm(minor),
    meanR: mean.r,
    meanG: mean.g,
    meanB: mean.b,
    hueCircularMean: hue,
    ...greenness(mean.r, mean.g, mean.b)
  }
}

/**
 * Traits of every leaf (components of at least minLeafAreaPx, largest first) and of all of them together.
 * `rgb` is the photo the mask belongs to (3 or 4 channels, same size).
 */
export function leafTraits(
  mask: Raster,
  rgb: Raster,
  options: { minLeafAreaPx?: number; pixelsPerMm?: number | null; photo?: string; instances?: Uint16Array } = {}
): { photo: Traits | null; leaves: LeafTraits[] } {
  const name = options.photo ?? 'the photo'
  if (rgb.width !== mask.width || rgb.height !== mask.height)
    throw new Error(`${name}: the mask is ${mask.width}×${mask.height}, the photo ${rgb.width}×${rgb.height}`)
  if (rgb.channels < 3) throw new Error(`${name} is not a colour photo`)
  const pixelsPerMm = options.pixelsPerMm ?? null
  const cv = opencv()
  const { labels, leafLabels } = leafComponents(mask, options.minLeafAreaPx ?? 1, name, options.instances)
  const { width, height } = mask
  const sums = new Map<number, PixelSums>(leafLabels.map((l) => [l, new PixelSums()]))
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const s = sums.get(labels[i])
      if (!s) continue
      const o = i * rgb.channels
      const r = rgb.data[o]
      const g = rgb.data[o + 1]
      const b = rgb.data[o + 2]
      s.n++
      s.x += x
      s.y += y
      s.xx += x * x
      s.yy += y * y
      s.xy += x * y
      s.r += r
      s.g += g
      s.b += b
      const h = hueRadians(r, g, b)
      if (h !== null) {
        s.hueCos += Math.cos(h)
        s.hueSin += Math.sin(h)
      }
      if (x < s.left) s.left = x
      if (x > s.right) s.right = x
      if (y < s.top) s.top = y
      if (y > s.bottom) s.bottom = y
    }
  }

  const leaves: LeafTraits[] = []
  const allPoints: number[] = []
  const total = new PixelSums()
  let perimeterSum = 0
  let contourAreaSum = 0
  for (const label of leafLabels) {
    const s = sums.get(label)!
    // The leaf alone, in its bounding box with a 1-pixel margin, for its outer contour.
    const w = s.right - s.left + 3
    const h = s.bottom - s.top + 3
    const region = cv.Mat.zeros(h, w, cv.CV_8UC1)
    const contours = new cv.MatVector()
    const hierarchy = new cv.Mat()
    const hull = new cv.Mat()
    let found: { rows: number; data32S: Int32Array; delete(): void }[] = []
    try {
      const data: Uint8Array = region.data
      for (let y = s.top; y <= s.bottom; y++)
        for (let x = s.left; x <= s.right; x++) if (labels[y * width + x] === label) data[(y - s.top + 1) * w + (x - s.left + 1)] = 255
      cv.findContours(region, contours, hierarchy, cv.RETR_EXTERNAL, cv.CHAIN_APPROX_NONE)
      found = Array.from({ length: contours.size() }, (_, k) => contours.get(k))
      // One 8-connected component has one outer contour; the longest, should tracing ever give more.
      const outer = found.reduce((best, c) => (c.rows > best.rows ? c : best))
      cv.convexHull(outer, hull, false, true)
      const contour = { perimeter: cv.arcLength(outer, true), contourArea: cv.contourArea(outer), hullArea: cv.contourArea(hull) }
      const points: Int32Array = outer.data32S
      for (let k = 0; k < points.length; k += 2) allPoints.push(points[k] + s.left - 1, points[k + 1] + s.top - 1)
      perimeterSum += contour.perimeter
      contourAreaSum += contour.contourArea
      leaves.push({ leaf: 0, centroidX: s.x / s.n, centroidY: s.y / s.n, ...traitsOf(s, contour, pixelsPerMm) })
    } finally {
      for (const c of found) c.delete()
      region.delete()
      contours.delete()
      hierarchy.delete()
      hull.delete()
    }
    total.add(s)
  }
  leaves.sort((a, b) => b.areaPx - a.areaPx || a.centroidY - b.centroidY || a.centroidX - b.centroidX)
  leaves.forEach((l, k) => (l.leaf = k + 1))
  if (leaves.length === 0) return { photo: null, leaves }
  const pointMat = cv.matFromArray(allPoints.length / 2, 1, cv.CV_32SC2, allPoints)
  const hull = new cv.Mat()
  try {
    cv.convexHull(pointMat, hull, false, true)
    const photo = traitsOf(total, { perimeter: perimeterSum, contourArea: contourAreaSum, hullArea: cv.contourArea(hull) }, pixelsPerMm)
    return { photo, leaves }
  } finally {
    pointMat.delete()
    hull.delete()
  }
}
