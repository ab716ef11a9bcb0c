// Mask files of any common kind -> one binary leaf mask (0 = background, 255 = leaf), plus the leaf
// instances when the file labels each leaf separately.
//
// Kinds recognised (from the pixels, not the name):
//   binary        two values, 0 and the maximum (255, or 65535 in 16-bit files)
//   binary-01     two values, 0 and 1 (looks black in a viewer)
//   instance-ids  gray leaf ids (0 = background, 1, 2, … = leaves), told from a gray mask by their values (isIndexLabel)
//   grayscale     anything else gray: leaf where value >= threshold (default 128 on a 0–255 scale)
//   instance-colours  coloured labels on black (komatsuna): each distinct colour is one leaf, black is background
//   colour-noisy  coloured with more than 1024 distinct colours (a JPEG-saved label): leaf where the brightest
//                 channel >= 32; no instances (JPEG noise makes colours unreliable)
// Transparency: pixels with alpha < 128 count as background; a mask drawn only in the alpha channel
// (every pixel the same colour) is read from its alpha.
//
// Instances are numbered 1..count without gaps (colours: in order of first appearance, row by row; ids: in the
// order of their values) and written by writeMask in the one stored format of ./instances.ts. More leaves than
// that format holds refuse the mask, naming the file.
import { displayedSize, openImage, writePng, type Raster } from '../imaging/raster'
import { tooLargeImage } from './limits'
import { DatasetError } from './errors'
import { renumberLeaves, writeInstanceIds } from './instances'
import { defaultMaskThreshold } from '../../../shared/bounds'

export type MaskKind = 'binary' | 'binary-01' | 'instance-ids' | 'grayscale' | 'instance-colours' | 'colour-noisy'

export interface InstanceLabels {
  /** Per pixel, row-major: 0 = background, 1..count = leaf. */
  ids: Uint16Array
  count: number
}

export interface NormalisedMask {
  kind: MaskKind
  width: number
  height: number
  /** One channel, 0 or 255. */
  binary: Raster
  /** Share of leaf pixels, 0..1. */
  foreground: number
  instances?: InstanceLabels
}

export interface MaskOptions {
  /** Gray threshold on a 0–255 scale: leaf where value >= threshold. Default 128. */
  threshold?: number
  /** The photo's size as displayed (after EXIF orientation); a mask of another size is refused. */
  expected?: { width: number; height: number; photo?: string }
}

const NOISY_COLOURS = 1024
const NOISY_MIN_BRIGHTNESS = 32

/** Read a mask file and normalise it. Throws DatasetError naming the file when it cannot be used. */
export async function normaliseMask(path: string, opts: MaskOptions = {}): Promise<NormalisedMask> {
  // 16-bit gray masks keep their 16-bit values (ids above 255 survive); everything else is read as 8-bit RGBA.
  let gray16: Uint16Array | null = null
  let rgba: Raster
  // The header's size first: a small file declaring a huge image (or one of the wrong size) is refused undecoded.
  const declared = await displayedSize(path)
  const huge = declared && tooLargeImage(declared.width, declared.height)
  if (huge) throw new DatasetError('unsupported', path, `The mask ${path} cannot be used: ${huge}`)
  if (declared) checkMaskSize(path, declared, opts.expected)
  try {
    const image = (await openImage(path)).rotate()
    const meta = await image.metadata()
    if (meta.depth === 'ushort' && (meta.channels === 1 || meta.channels === 2)) {
      const { data, info } = await image.extractChannel(0).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true })
      gray16 = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))
      rgba = { width: info.width, height: info.height, channels: 4, data: new Uint8Array(0) }
    } else {
      const { data, info } = await image.ensureAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
      if (info.channels !== 4) throw new Error(`decoded ${info.channels} channels`)
      rgba = { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
    }
  } catch (err) {
    throw new DatasetError('unreadable', path, `The mask ${path} cannot be read as an image (${(err as Error).message})`)
  }
  const { width, height } = rgba
  checkMaskSize(path, rgba, opts.expected)
  const threshold = opts.threshold ?? defaultMaskThreshold
  return gray16 ? fromGray(gray16, width, height, 65535, threshold * 257, path) : normaliseRgba(rgba, threshold, path)
}

function checkMaskSize(path: string, mask: { width: number; height: number }, e: MaskOptions['expected']): void {
  const { width, height } = mask
  if (e && (e.width !== width || e.height !== height)) {
    const turned =
      e.width === height && e.height === width
        ? ' It would fit the photo turned on its side: it was perhaps drawn on the photo before its camera rotation was applied.'
        : ''
    throw new DatasetError(
      'mask-size',
      path,
      `The mask ${path} is ${width}×${height} pixels but its photo${e.photo ? ` ${e.photo}` : ''} is ${e.width}×${e.height} (as displayed); a mask must have exactly the photo's size.${turned}`
    )
  }
}

/** Normalise decoded RGBA pixels (pure; see the file comment for the rules). */
export function normaliseRgba(rgba: Raster, threshold = defaultMaskThreshold, file = 'The mask'): NormalisedMask {
  if (rgba.channels !== 4) throw new Error('normaliseRgba needs 4 channels')
  const { width, height, data } = rgba
  const n = width * height
  let alphaVaries = false
  let oneColour = true
  let allGray = true
  for (let i = 0; i < n; i++) {
    const p = i * 4
    if (data[p + 3] !== 255) alphaVaries = true
    if (data[p] !== data[0] || data[p + 1] !== data[1] || data[p + 2] !== data[2]) oneColour = false
    if (data[p] !== data[p + 1] || data[p] !== data[p + 2]) allGray = false
  }
  if (alphaVaries && oneColour) {
    const alpha = new Uint16Array(n)
    for (let i = 0; i < n; i++) alpha[i] = data[i * 4 + 3]
    return fromGray(alpha, width, height, 255, threshold, file)
  }
  const visible = (p: number): boolean => data[p + 3] >= 128
  if (allGray) {
    const values = new Uint16Array(n)
    for (let i = 0; i < n; i++) values[i] = visible(i * 4) ? data[i * 4] : 0
    return fromGray(values, width, height, 255, threshold, file)
  }
  // Colour labels: each distinct non-black colour is one leaf.
  const binary = new Uint8Array(n)
  const ids = new Uint16Array(n)
  const idOf = new Map<number, number>()
  let leaf = 0
  for (let i = 0; i < n; i++) {
    const p = i * 4
    if (!visible(p)) continue
    const key = (data[p] << 16) | (data[p + 1] << 8) | data[p + 2]
    if (key === 0) continue
    let id = idOf.get(key)
    if (id === undefined) {
      id = idOf.size + 1
      idOf.set(key, id)
    }
    if (idOf.size > NOISY_COLOURS) continue
    ids[i] = id
  }
  if (idOf.size > NOISY_COLOURS) {
    for (let i = 0; i < n; i++) {
      const p = i * 4
      if (visible(p) && Math.max(data[p], data[p + 1], data[p + 2]) >= NOISY_MIN_BRIGHTNESS) {
        binary[i] = 255
        leaf++
      }
    }
    return { kind: 'colour-noisy', width, height, binary: { width, height, channels: 1, data: binary }, foreground: leaf / n }
  }
  return maskFromIds(ids, width, height, 'instance-colours', file)
}

/**
 * A mask from per-pixel leaf labels (0 = background, any other value = one leaf): its binary union and its
 * leaves numbered 1..count (by value, or in order of first appearance). Throws DatasetError above the leaf limit.
 */
export function maskFromIds(
  ids: Uint16Array,
  width: number,
  height: number,
  kind: MaskKind,
  file: string,
  order: 'by-value' | 'first-seen' = 'first-seen'
): NormalisedMask {
  const count = renumberLeaves(ids, file, order)
  const n = width * height
  const binary = new Uint8Array(n)
  let leaf = 0
  for (let i = 0; i < n; i++) {
    if (ids[i]) {
      binary[i] = 255
      leaf++
    }
  }
  return { kind, width, height, binary: { width, height, channels: 1, data: binary }, foreground: leaf / n, instances: { ids, count } }
}

/**
 * Whether gray values are leaf ids (an index label) rather than a gray mask. Two values are a mask (0/1, 0/max, or a
 * threshold). With three or more, 0 among them, they are ids when either most of the marked (non-zero) pixels lie
 * below the threshold, so a threshold would drop most of what the image marks (ids 1..150 in 8 bits, any ids in
 * 16 bits); or no value marks most of them and neighbouring pixels change by jumps, to or from 0 or by more than a
 * 32nd of the scale, as between leaves, not by the small steps of a soft edge or a gradient (ids 1..255). A gray mask
 * is mostly its top value (the leaves' inside) with a soft edge.
 */
function isIndexLabel(values: Uint16Array, width: number, counts: Uint32Array, seen: number[], max: number, threshold: number): boolean {
  if (seen.length < 3 || counts[0] === 0) return false
  const marked = values.length - counts[0]
  let below = 0
  let commonest = 0
  for (const v of seen) {
    if (v !== 0 && v < threshold) below += counts[v]
    if (v !== 0) commonest = Math.max(commonest, counts[v])
  }
  if (below * 2 > marked) return true
  if (commonest * 2 > marked) return false
  const step = max / 32
  let changes = 0
  let jumps = 0
  for (let i = 0; i < values.length; i++) {
    if ((i + 1) % width === 0) continue
    const a = values[i]
    const b = values[i + 1]
    if (a === b) continue
    changes++
    if (a === 0 || b === 0 || Math.abs(a - b) > step) jumps++
  }
  return jumps * 2 > changes
}

function fromGray(values: Uint16Array, width: number, height: number, max: number, threshold: number, file: string): NormalisedMask {
  const n = width * height
  const counts = new Uint32Array(max + 1)
  for (let i = 0; i < n; i++) counts[values[i]]++
  const seen: number[] = []
  counts.forEach((c, v) => {
    if (c > 0) seen.push(v)
  })
  let kind: MaskKind
  let isLeaf: (v: number) => boolean
  if (seen.every((v) => v === 0 || v === 1) && counts[1] > 0) {
    kind = 'binary-01'
    isLeaf = (v) => v === 1
  } else if (seen.every((v) => v === 0 || v === max)) {
    kind = 'binary'
    isLeaf = (v) => v === max
  } else if (isIndexLabel(values, width, counts, seen, max, threshold) || (seen.length <= 2 && seen[seen.length - 1] < threshold)) {
    // Leaf ids; more than 255 leaves are refused by name (renumberLeaves).
    return maskFromIds(Uint16Array.from(values), width, height, 'instance-ids', file, 'by-value')
  } else {
    kind = 'grayscale'
    isLeaf = (v) => v >= threshold
  }
  const binary = new Uint8Array(n)
  let leaf = 0
  for (let i = 0; i < n; i++) {
    if (isLeaf(values[i])) {
      binary[i] = 255
      leaf++
    }
  }
  return { kind, width, height, binary: { width, height, channels: 1, data: binary }, foreground: leaf / n }
}

/** Write the binary mask (0/255 one-channel PNG) and, when asked and the mask has instances, its leaf ids; both atomically. */
export async function writeMask(mask: NormalisedMask, paths: { binary: string; instances?: string }): Promise<void> {
  await writePng(paths.binary, mask.binary)
  if (paths.instances && mask.instances) await writeInstanceIds(paths.instances, { width: mask.width, height: mask.height, ...mask.instances })
}
