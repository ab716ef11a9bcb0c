// COCO segmentation files: read (polygons, RLE uncompressed and compressed) into one binary mask per image,
// and write (a folder of PNG masks, or COCO JSON with compressed RLE).
//
// Pixels follow pycocotools exactly: RLE runs go down columns (column-major), start with background, and
// polygons are rasterised with the rule of its maskApi.c rleFrPoly (boundary upsampled 5×, a pixel is inside
// when its centre is below the boundary crossing at that column). Several polygons or annotations of one
// image are combined by union (pycocotools merges an annotation's polygons the same way).
import { writePng, type Raster } from '../imaging/raster'
import { DatasetError } from './errors'
import { stemOf } from './util'
import { writeAtomic } from '../store/atomic'
import { compressCounts, decodeRle, decompressCounts, encodeRle } from '../../../shared/rle'
import { makePhotoLookup } from './match'
import { basename, join } from 'node:path'
import { maxEntries, maxPolygonCoordinates, maxPolygonSteps, readAnnotationText, tooLargeImage } from './limits'
import { checkLeafCount, writeInstanceIds, type InstanceIds } from './instances'
import { maskFromIds, type NormalisedMask } from './masks'

/** Run lengths, column-major, starting with a (possibly empty) background run. */
export type RleCounts = number[]

export interface CocoImage {
  id: number
  fileName: string
  width: number
  height: number
}

export type CocoSegmentation = { polygons: number[][] } | { rle: RleCounts }

export interface CocoAnnotation {
  id: number | null
  imageId: number
  categoryId: number | null
  iscrowd: boolean
  segmentation: CocoSegmentation
}

export interface CocoFile {
  images: CocoImage[]
  annotations: CocoAnnotation[]
  categories: Array<{ id: number; name: string }>
  /** Annotations grouped by image id (every image has an entry, perhaps empty). */
  annotationsByImage: Map<number, CocoAnnotation[]>
}

/**
 * Clip a polygon to a box (Sutherland–Hodgman, one box side at a time). Points far outside the image would
 * otherwise make the rasteriser walk an enormous boundary; inside the box the polygon is unchanged.
 */
export function clipPolygon(xy: number[], box: { x0: number; y0: number; x1: number; y1: number }): number[] {
  let pts: Array<[number, number]> = []
  for (let i = 0; i + 1 < xy.length; i += 2) pts.push([xy[i], xy[i + 1]])
  const sides: Array<[(p: [number, number]) => boolean, (a: [number, number], b: [number, number]) => [number, number]]> = [
    [(p) => p[0] >= box.x0, (a, b) => [box.x0, a[1] + ((b[1] - a[1]) * (box.x0 - a[0])) / (b[0] - a[0])]],
    [(p) => p[0] <= box.x1, (a, b) => [box.x1, a[1] + ((b[1] - a[1]) * (box.x1 - a[0])) / (b[0] - a[0])]],
    [(p) => p[1] >= box.y0, (a, b) => [a[0] + ((b[0] - a[0]) * (box.y0 - a[1])) / (b[1] - a[1]), box.y0]],
    [(p) => p[1] <= box.y1, (a, b) => [a[0] + ((b[0] - a[0]) * (box.y1 - a[1])) / (b[1] - a[1]), box.y1]]
  ]
  for (const [inside, cross] of sides) {
    const out: Array<[number, number]> = []
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i]
      const prev = pts[(i + pts.length - 1) % pts.length]
      if (inside(cur)) {
        if (!inside(prev)) out.push(cross(prev, cur))
        out.push(cur)
      } else if (inside(prev)) out.push(cross(prev, cur))
    }
    pts = out
    if (pts.length === 0) break
  }
  return pts.flat()
}

/**
 * Rasterise one polygon [x0, y0, x1, y1, …] to RLE with pycocotools' rleFrPoly pixel rule. A polygon reaching far
 * outside the image is clipped first (a margin of the image's own size, so ordinary polygons are drawn exactly as
 * pycocotools does); one whose boundary is still too long to draw throws.
 */
export function rleFromPolygon(polygon: number[], height: number, width: number): RleCounts {
  const scale = 5
  const box = { x0: -width, y0: -height, x1: 2 * width, y1: 2 * height }
  let outside = false
  for (let i = 0; i + 1 < polygon.length && !outside; i += 2) {
    outside = !(polygon[i] >= box.x0 && polygon[i] <= box.x1 && polygon[i + 1] >= box.y0 && polygon[i + 1] <= box.y1)
  }
  const xy = outside ? clipPolygon(polygon, box) : polygon
  if (xy.length < 6) return [height * width] // nothing of it inside the image
  const k = Math.floor(xy.length / 2)
  // C casts (int)(v + .5) truncate toward zero; keep that for negative coordinates.
  const x = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[(j % k) * 2] + 0.5))
  const y = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[(j % k) * 2 + 1] + 0.5))
  let steps = 0
  for (let j = 0; j < k; j++) steps += Math.max(Math.abs(x[j + 1] - x[j]), Math.abs(y[j + 1] - y[j])) + 1
  if (steps > maxPolygonSteps) throw new Error(`a polygon of ${k} points has a boundary too long to draw (${steps} steps; at most ${maxPolygonSteps})`)
  // Dense boundary points on the upsampled grid.
  const u: number[] = []
  const v: number[] = []
  for (let j = 0; j < k; j++) {
    let xs = x[j],
      xe = x[j + 1],
      ys = y[j],
      ye = y[j + 1]
    const dx = Math.abs(xe - xs),
      dy = Math.abs(ys - ye)
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
    if (flip) [xs, xe, ys, ye] = [xe, xs, ye, ys]
    const s = dx >= dy ? (dx === 0 ? 0 : (ye - ys) / dx) : (xe - xs) / dy
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d
        u.push(t + xs)
        v.push(Math.trunc(ys + s * t + 0.5))
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d
        v.push(t + ys)
        u.push(Math.trunc(xs + s * t + 0.5))
      }
    }
  }
  // Where the boundary crosses a pixel column centre: the first pixel below it starts or ends a run.
  const starts: number[] = []
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1
    xd = (xd + 0.5) / scale - 0.5
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1]
    yd = (yd + 0.5) / scale - 0.5
    if (yd < 0) yd = 0
    else if (yd > height) yd = height
    yd = Math.ceil(yd)
    starts.push(xd * height + yd)
  }
  starts.push(height * width)
  starts.sort((a, b) => a - b)
  const diffs: number[] = []
  let prev = 0
  for (const t of starts) {
    diffs.push(t - prev)
    prev = t
  }
  // Zero-length runs merge their neighbours.
  const counts: RleCounts = [diffs[0]]
  for (let j = 1; j < diffs.length;) {
    if (diffs[j] > 0) counts.push(diffs[j++])
    else {
      j++
      if (j < diffs.length) counts[counts.length - 1] += diffs[j++]
    }
  }
  return counts
}

// ---- reading COCO JSON ----------------------------------------------------------------------

/** Parse and check a COCO file's text. Errors name the file and the image or annotation at fault. */
export function parseCoco(text: string, file: string): CocoFile {
  const bad = (what: string): DatasetError => new DatasetError('corrupt-export', file, `The COCO file ${file} ${what}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw bad(`is not valid JSON (${(err as Error).message}); it may be cut short or not a COCO file`)
  }
  const root = json as Record<string, unknown>
  if (!root || typeof root !== 'object' || !Array.isArray(root.images)) throw bad('has no "images" list; it is not a COCO file')
  if (!Array.isArray(root.annotations)) throw bad('has no "annotations" list')
  for (const list of ['images', 'annotations'] as const) {
    const n = (root[list] as unknown[]).length
    if (n > maxEntries) throw bad(`has ${n} ${list}; Leafseg reads at most ${maxEntries} per file. Split it into smaller files`)
  }
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0
  const images: CocoImage[] = root.images.map((raw: unknown, i: number) => {
    const im = raw as Record<string, unknown>
    if (!im || typeof im !== 'object' || typeof im.id !== 'number' || typeof im.file_name !== 'string' || !isCount(im.width) || !isCount(im.height)) {
      throw bad(`has an unusable image entry #${i + 1}: each needs id, file_name, width and height`)
    }
    const huge = tooLargeImage(im.width, im.height)
    if (huge) throw bad(`has an image entry #${i + 1} (${im.file_name.slice(0, 200)}) whose size cannot be right: ${huge}`)
    return { id: im.id, fileName: im.file_name, width: im.width, height: im.height }
  })
  const byId = new Map(images.map((im) => [im.id, im]))
  const annotations: CocoAnnotation[] = root.annotations.map((raw: unknown, i: number) => {
    const a = raw as Record<string, unknown>
    const name = `annotation #${i + 1}${a && typeof a.id === 'number' ? ` (id ${a.id})` : ''}`
    if (!a || typeof a !== 'object') throw bad(`has an unusable ${name}`)
    const image = typeof a.image_id === 'number' ? byId.get(a.image_id) : undefined
    if (!image) throw bad(`has ${name} for image ${String(a.image_id)}, which is not in its "images" list`)
    let segmentation: CocoSegmentation
    const seg = a.segmentation as unknown
    if (Array.isArray(seg)) {
      if (!seg.every((poly) => Array.isArray(poly) && poly.every((c) => typeof c === 'number' && Number.isFinite(c)))) {
        throw bad(`has ${name} whose polygons are not lists of numbers`)
      }
      let longest = 0
      for (const poly of seg as unknown[][]) longest = Math.max(longest, poly.length)
      if (seg.length > maxEntries || longest > maxPolygonCoordinates) {
        throw bad(
          `has ${name} with ${seg.length > maxEntries ? `${seg.length} polygons` : `a polygon of ${longest} coordinates`}; at most ${seg.length > maxEntries ? maxEntries : maxPolygonCoordinates} are read`
        )
      }
      segmentation = { polygons: seg as number[][] }
    } else if (seg && typeof seg === 'object' && 'counts' in seg) {
      const { counts, size } = seg as { counts: unknown; size: unknown }
      if (!Array.isArray(size) || size[0] !== image.height || size[1] !== image.width) {
        throw bad(`has ${name} whose RLE size ${describe(size)} is not its image's [height, width] = [${image.height}, ${image.width}]`)
      }
      try {
        let rle: RleCounts
        if (typeof counts === 'string') rle = decompressCounts(counts)
        else if (Array.isArray(counts) && counts.every((c) => typeof c === 'number' && Number.isInteger(c) && c >= 0)) rle = counts as number[]
        else throw new Error('its counts are neither a list of whole numbers of 0 or more nor a string')
        // The runs must cover the image exactly: checked here, before any pixel is allocated.
        let covered = 0
        for (const run of rle) covered += run
        if (covered !== image.width * image.height)
          throw new Error(`its runs cover ${covered} pixels, not the image's ${image.width}×${image.height} = ${image.width * image.height}`)
        segmentation = { rle }
      } catch (err) {
        throw bad(`has ${name} with a broken RLE: ${(err as Error).message}`)
      }
    } else {
      throw bad(`has ${name} without a segmentation (polygons or RLE)`)
    }
    return {
      id: typeof a.id === 'number' ? a.id : null,
      imageId: image.id,
      categoryId: typeof a.category_id === 'number' ? a.category_id : null,
      iscrowd: a.iscrowd === 1 || a.iscrowd === true,
      segmentation
    }
  })
  const categories = Array.isArray(root.categories)
    ? (root.categories as Array<Record<string, unknown>>)
        .filter((c) => c && typeof c.id === 'number')
        .map((c) => ({ id: c.id as number, name: String(c.name ?? c.id) }))
    : []
  const annotationsByImage = new Map<number, CocoAnnotation[]>(images.map((im) => [im.id, []]))
  for (const a of annotations) annotationsByImage.get(a.imageId)!.push(a)
  return { images, annotations, categories, annotationsByImage }
}

/** A value in an error message, kept short whatever the file holds (deeply nested, enormous). */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length <= 4 && value.every((v) => typeof v === 'number') ? `[${value.join(',')}]` : `a list of ${value.length}`
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40))
  return typeof value === 'object' ? (value === null ? 'null' : 'an object') : String(value)
}

/** Read and parse a COCO file (refused when too large to parse safely). */
export async function readCocoFile(file: string): Promise<CocoFile> {
  return parseCoco(await readAnnotationText(file, 'COCO file'), file)
}

/**
 * One image's leaves: each annotation (all, or those of `categoryIds`) is one leaf, numbered in the file's order
 * (where two overlap, the later one has the pixel), and the binary mask is their union. An image without
 * annotations gives an empty mask with no leaves. With `expected` (the photo's size as displayed), an image of
 * another size is refused with DatasetError('mask-size'); more leaves than a photo holds, with 'unsupported'.
 */
export function cocoImageInstances(
  coco: CocoFile,
  imageId: number,
  opts: { categoryIds?: number[]; file?: string; expected?: { width: number; height: number; photo?: string } } = {}
): NormalisedMask {
  const annotations = coco.annotationsByImage.get(imageId)
  const image = annotations && coco.images.find((im) => im.id === imageId)
  if (!image || !annotations) throw new Error(`image ${imageId} is not in the COCO file`)
  const { width, height } = image
  const file = opts.file ?? 'COCO file'
  const e = opts.expected
  if (e && (e.width !== width || e.height !== height)) {
    throw new DatasetError(
      'mask-size',
      file,
      `The ${file} gives ${image.fileName} the size ${width}×${height} pixels but the photo${e.photo ? ` ${e.photo}` : ''} is ${e.width}×${e.height} (as displayed); its masks cannot be used`
    )
  }
  const used = annotations.filter((a) => !opts.categoryIds || (a.categoryId !== null && opts.categoryIds.includes(a.categoryId)))
  checkLeafCount(used.length, `The ${file} (image ${image.fileName})`)
  const ids = new Uint16Array(width * height)
  used.forEach((a, k) => {
    const shapes = 'rle' in a.segmentation ? [a.segmentation.rle] : a.segmentation.polygons.filter((p) => p.length >= 6)
    for (const shape of shapes) {
      let pixels: Uint8Array
      try {
        pixels = decodeRle({ size: [height, width], counts: 'rle' in a.segmentation ? (shape as RleCounts) : rleFromPolygon(shape, height, width) })
      } catch (err) {
        throw new DatasetError(
          'corrupt-export',
          file,
          `The ${file} has a broken mask for ${image.fileName} (annotation ${a.id ?? '?'}): ${(err as Error).message}`
        )
      }
      for (let i = 0; i < pixels.length; i++) if (pixels[i]) ids[i] = k + 1
    }
  })
  return maskFromIds(ids, width, height, 'instance-ids', file, 'by-value')
}

/** One image's binary leaf mask (0/255, one channel): the union of its annotations (see cocoImageInstances). */
export function cocoImageMask(coco: CocoFile, imageId: number, opts: Parameters<typeof cocoImageInstances>[2] = {}): Raster {
  return cocoImageInstances(coco, imageId, opts).binary
}

export interface CocoMatch {
  image: CocoImage
  photo: string
}

/** Pair the file's images with photos by file_name (base name, then name without extension; folders ignored). */
export function matchCocoImages(
  coco: CocoFile,
  photos: string[]
): { pairs: CocoMatch[]; unmatchedImages: Array<{ image: CocoImage; reason: string }>; unmatchedPhotos: string[] } {
  const lookup = makePhotoLookup(photos)
  const pairs: CocoMatch[] = []
  const unmatchedImages: Array<{ image: CocoImage; reason: string }> = []
  const taken = new Set<string>()
  for (const image of coco.images) {
    const found = lookup(image.fileName)
    if (!found) unmatchedImages.push({ image, reason: 'no photo has this file name' })
    else if ('ambiguous' in found) unmatchedImages.push({ image, reason: `several photos have this name: ${found.ambiguous.join(', ')}` })
    else if (taken.has(found.photo)) unmatchedImages.push({ image, reason: `the photo ${found.photo} already matched another image of the file` })
    else {
      taken.add(found.photo)
      pairs.push({ image, photo: found.photo })
    }
  }
  return { pairs, unmatchedImages, unmatchedPhotos: photos.filter((p) => !taken.has(p)) }
}

// ---- writing --------------------------------------------------------------------------------

export interface MaskForExport {
  /** The photo's file name or path; the mask is named after it. */
  photo: string
  /** One channel, leaf where non-zero. */
  mask: Raster
  /** The mask's leaves, when it has them. */
  leaves?: InstanceIds
}

/** The name of the instance image exported beside `<stem>.png`, and read back beside it on import. */
export const instancesSuffix = '.instances'

/**
 * Write `<photo stem>.png` (0/255) for each item into `dir`, and `<photo stem>.instances.png` (leaf ids, the
 * stored format) beside it for an item with leaves; atomically each. Refuses names that would collide.
 */
export async function exportMaskFolder(
  items: MaskForExport[],
  dir: string,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}
): Promise<string[]> {
  const names = items.map((it) => `${stemOf(it.photo)}.png`)
  const clash = names.find((n, i) => names.indexOf(n) !== i)
  if (clash) throw new Error(`Two photos would both get the mask file name ${clash}; rename one of them before exporting`)
  const written: string[] = []
  for (let i = 0; i < items.length; i++) {
    opts.signal?.throwIfAborted()
    const { mask, leaves } = items[i]
    const data = Uint8Array.from(
      mask.data.subarray(0, mask.width * mask.height * mask.channels).filter((_, j) => j % mask.channels === 0),
      (v) => (v ? 255 : 0)
    )
    const path = join(dir, names[i])
    await writePng(path, { width: mask.width, height: mask.height, channels: 1, data })
    written.push(path)
    if (leaves) {
      const instances = join(dir, `${stemOf(items[i].photo)}${instancesSuffix}.png`)
      await writeInstanceIds(instances, leaves)
      written.push(instances)
    }
    opts.onProgress?.(i + 1, items.length)
  }
  return written
}

/** A COCO annotation (compressed RLE, iscrowd 0) of the pixels where `inside` holds; null when there are none. */
function cocoAnnotation(width: number, height: number, inside: (i: number) => boolean): { segmentation: object; area: number; bbox: number[] } | null {
  const pixels = new Uint8Array(width * height)
  let area = 0
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(y * width + x)) continue
      pixels[y * width + x] = 1
      area++
      if (x < x0) x0 = x
      if (x > x1) x1 = x
      if (y < y0) y0 = y
      if (y > y1) y1 = y
    }
  }
  if (area === 0) return null
  const counts = compressCounts(encodeRle(pixels, width, height).counts)
  return { segmentation: { size: [height, width], counts }, area, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] }
}

/**
 * A COCO object with one image per item and its annotations (compressed RLE, iscrowd 0, category "leaf"): one
 * per leaf for an item with leaves, else one for the whole mask when it is not empty. Images are numbered 1..
 * in the given order; file_name is the photo's base name.
 */
export function cocoFromMasks(items: MaskForExport[], opts: { category?: string } = {}): object {
  const images: object[] = []
  const annotations: object[] = []
  items.forEach((it, i) => {
    const { width, height, channels, data } = it.mask
    images.push({ id: i + 1, file_name: basename(it.photo), width, height })
    const objects = it.leaves
      ? Array.from({ length: it.leaves.count }, (_, k) => cocoAnnotation(width, height, (j) => it.leaves!.ids[j] === k + 1))
      : [cocoAnnotation(width, height, (j) => data[j * channels] !== 0)]
    for (const o of objects) if (o) annotations.push({ id: annotations.length + 1, image_id: i + 1, category_id: 1, ...o, iscrowd: 0 })
  })
  return { info: { description: 'Leafseg mask export' }, images, annotations, categories: [{ id: 1, name: opts.category ?? 'leaf', supercategory: 'plant' }] }
}

/** Write cocoFromMasks(items) as JSON, atomically. */
export async function writeCocoJson(path: string, items: MaskForExport[], opts: { category?: string } = {}): Promise<void> {
  await writeAtomic(path, JSON.stringify(cocoFromMasks(items, opts)))
}
