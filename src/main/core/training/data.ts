// Training data streamed from disk: decode + resize with sharp, then seeded augmentation in JS.
// Nothing here touches tfjs: batches are plain Float32Arrays, turned into tensors by the training loop.
import sharp from 'sharp'
import type { Raster } from '../imaging/raster'
import { seededRandom } from '../../../shared/random'
import { readInstanceFile } from '../datasets/instances'
import { leafCentres, leafWeights } from '../model/instances'

export interface Sample {
  id: string
  imagePath: string
  /** PNG, 0 = background, 255 = leaf (anything >= 128 counts as leaf). */
  maskPath: string
  /** The leaf instances of the mask (leaf ids in the stored format, datasets/instances.ts), when it has them. */
  instancesPath?: string
}

/** Each augmentation can be switched off by leaving it out or setting it to false / 0. */
export interface AugmentOptions {
  /** Random horizontal and vertical flips. */
  flips?: boolean
  /** Random multiples of 90 degrees. */
  rotate90?: boolean
  /** Largest extra rotation in degrees, either way (e.g. 15). */
  rotateDegrees?: number
  /** Random zoom: crop a part of the photo covering this fraction of each side, e.g. [0.75, 1]. */
  scaleRange?: [number, number] | false
  /** Largest relative change of brightness, contrast and saturation (e.g. 0.2 = ±20 %). */
  brightness?: number
  contrast?: number
  saturation?: number
  /** Largest hue rotation in degrees. */
  hueDegrees?: number
  /** Chance of a Gaussian blur and its largest sigma in pixels. */
  blurProbability?: number
  blurSigma?: number
  /** Largest standard deviation of added Gaussian noise (0..1 scale). */
  noiseStd?: number
}

export const DEFAULT_AUGMENT: Required<AugmentOptions> = {
  flips: true,
  rotate90: true,
  rotateDegrees: 15,
  scaleRange: [0.75, 1],
  brightness: 0.2,
  contrast: 0.2,
  saturation: 0.2,
  hueDegrees: 8,
  blurProbability: 0.2,
  blurSigma: 1.2,
  noiseStd: 0.03
}

/**
 * How a photo becomes a network input. 'whole': the whole photo resized to size×size, as in the published
 * workflow (aspect ratio not kept). 'crops': square windows of the photo at a fixed scale (network pixels per
 * photo pixel), so that a model can later predict a large photo tile by tile at that same scale.
 */
export type Sampling = { mode: 'whole' } | { mode: 'crops'; scale: number }

/** A network-sized example: rgb is size*size*3 in 0..1, mask is size*size of 0/1. */
export interface Example {
  rgb: Float32Array
  mask: Float32Array
  /** Leaf instance ids (0 = background), size*size, when the sample has instances and they were asked for. */
  ids?: Float32Array
  /** With ids: each leaf's normalised distance to its border (model/instances.ts leafCentres), size*size. */
  centre?: Float32Array
  /** With ids: the weight of each pixel in the centre's loss (model/instances.ts leafWeights), size*size. */
  weight?: Float32Array
}

/**
 * A batch ready for tfjs: x is n*size*size*3, y is n*size*size (n*size*size*3 for instances: leaf, leaf centre and
 * the centre's loss weight, unet.ts instanceLoss).
 */
export interface Batch {
  x: Float32Array
  y: Float32Array
  n: number
  ids: string[]
}

/** A seed from several integers (run seed, epoch, sample index), so results do not depend on load order. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const p of parts) {
    h = Math.imul(h ^ (p & 0xffff), 0x01000193)
    h = Math.imul(h ^ (p >>> 16), 0x01000193)
  }
  return h >>> 0
}

function orientedSize(meta: { orientation?: number; width?: number; height?: number }): { width: number; height: number } {
  const swap = (meta.orientation ?? 1) >= 5
  return { width: (swap ? meta.height : meta.width) ?? 0, height: (swap ? meta.width : meta.height) ?? 0 }
}

async function decodeRegion(
  path: string,
  what: string,
  region: { left: number; top: number; width: number; height: number } | null,
  size: number,
  channels: 1 | 3
): Promise<Uint8Array> {
  try {
    let img = sharp(path, { failOn: 'truncated' }).rotate()
    if (region) img = img.extract(region)
    img = img.resize(size, size, { fit: 'fill', kernel: channels === 1 ? 'nearest' : 'lanczos3' })
    img = channels === 1 ? img.extractChannel(0) : img.removeAlpha().toColourspace('srgb')
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`)
    return new Uint8Array(data.buffer, data.byteOffset, data.length)
  } catch (err) {
    throw new Error(`Cannot read the ${what} ${path}: ${(err as Error).message}`)
  }
}

/**
 * The instance ids of `path` in `region` (null: all of it), their leaf centres and the centre loss's pixel weights,
 * resized to size×size by nearest neighbour. Centres and weights are computed on the whole photo, so a leaf cut by
 * the window keeps its own values.
 */
async function decodeInstances(
  path: string,
  region: { left: number; top: number; width: number; height: number } | null,
  size: number
): Promise<{ ids: Float32Array; centre: Float32Array; weight: Float32Array }> {
  const labels = await readInstanceFile(path)
  const { ids } = labels
  const centres = leafCentres(ids, labels.width, labels.height)
  const weights = leafWeights(ids, labels.width, labels.height)
  const r = region ?? { left: 0, top: 0, width: labels.width, height: labels.height }
  const out = new Float32Array(size * size)
  const centre = new Float32Array(size * size)
  const weight = new Float32Array(size * size)
  for (let y = 0; y < size; y++) {
    const row = (r.top + Math.min(r.height - 1, Math.floor(((y + 0.5) * r.height) / size))) * labels.width + r.left
    for (let x = 0; x < size; x++) {
      const from = row + Math.min(r.width - 1, Math.floor(((x + 0.5) * r.width) / size))
      out[y * size + x] = ids[from]
      centre[y * size + x] = centres[from]
      weight[y * size + x] = weights[from]
    }
  }
  return { ids: out, centre, weight }
}

async function photoAndMaskSize(sample: Sample): Promise<{ width: number; height: number }> {
  const read = async (path: string, what: string) => {
    try {
      return orientedSize(await sharp(path).metadata())
    } catch (err) {
      throw new Error(`Cannot read the ${what} ${path}: ${(err as Error).message}`)
    }
  }
  const [photo, mask] = await Promise.all([read(sample.imagePath, 'photo'), read(sample.maskPath, 'mask')])
  if (photo.width !== mask.width || photo.height !== mask.height)
    throw new Error(
      `The mask ${sample.maskPath} is ${mask.width}×${mask.height} pixels but its photo ${sample.imagePath} is ${photo.width}×${photo.height}; they must be the same size.`
    )
  return photo
}

/**
 * Decode one photo and its mask at size×size; with `augment`, apply the enabled augmentations drawn from
 * `random`. Without it (validation, prediction) only the sampling window is drawn (one fixed crop per seed).
 */
export async function loadExample(
  sample: Sample,
  size: number,
  augment: AugmentOptions | null,
  random: () => number,
  sampling: Sampling = { mode: 'whole' },
  instances = false
): Promise<Example> {
  const a = augment ?? {}
  const { width, height } = await photoAndMaskSize(sample)
  let w = width
  let h = height
  if (sampling.mode === 'crops') w = h = Math.max(1, Math.min(width, height, Math.round(size / sampling.scale)))
  if (a.scaleRange) {
    const [lo, hi] = a.scaleRange
    const zoom = lo + (hi - lo) * random()
    w = Math.max(1, Math.round(w * zoom))
    h = Math.max(1, Math.round(h * zoom))
  }
  const region =
    w === width && h === height ? null : { left: Math.floor(random() * (width - w + 1)), top: Math.floor(random() * (height - h + 1)), width: w, height: h }
  const withIds = instances && sample.instancesPath !== undefined
  const [rgb8, mask8, instances8] = await Promise.all([
    decodeRegion(sample.imagePath, 'photo', region, size, 3),
    withIds ? null : decodeRegion(sample.maskPath, 'mask', region, size, 1),
    withIds ? decodeInstances(sample.instancesPath!, region, size) : undefined
  ])
  const ids = instances8?.ids
  const centre = instances8?.centre
  const weight = instances8?.weight
  const rgb = new Float32Array(size * size * 3)
  for (let i = 0; i < rgb.length; i++) rgb[i] = rgb8[i] / 255
  const mask = new Float32Array(size * size)
  // With instances, the leaf mask is their union (the same pixels as the binary mask, at the same resampling).
  for (let i = 0; i < mask.length; i++) mask[i] = ids ? (ids[i] > 0 ? 1 : 0) : mask8![i] >= 128 ? 1 : 0
  if (!augment) return { rgb, mask, ids, centre, weight }
  return augmentExample({ rgb, mask, ids, centre, weight }, size, a, random)
}

/** Geometric and photometric augmentation of a decoded example (in JS, no tensors). */
export function augmentExample(example: Example, size: number, a: AugmentOptions, random: () => number): Example {
  let { rgb, mask, ids, centre, weight } = example
  // One inverse-mapped pass for flips, quarter turns and the small rotation.
  const flipX = a.flips && random() < 0.5
  const flipY = a.flips && random() < 0.5
  const quarter = a.rotate90 ? Math.floor(random() * 4) : 0
  const degrees = a.rotateDegrees ? (random() * 2 - 1) * a.rotateDegrees : 0
  if (flipX || flipY || quarter || degrees) {
    const angle = (quarter * 90 + degrees) * (Math.PI / 180)
    ;({ rgb, mask, ids, centre, weight } = warp({ rgb, mask, ids, centre, weight }, size, Math.cos(angle), Math.sin(angle), flipX ? -1 : 1, flipY ? -1 : 1))
  }
  if (a.brightness || a.contrast || a.saturation || a.hueDegrees) {
    const jitter = (amount = 0) => 1 + (random() * 2 - 1) * amount
    colorJitter(rgb, jitter(a.brightness), jitter(a.contrast), jitter(a.saturation), (random() * 2 - 1) * (a.hueDegrees ?? 0))
  }
  if (a.blurProbability && a.blurSigma && random() < a.blurProbability) blur(rgb, size, 0.3 + random() * (a.blurSigma - 0.3))
  if (a.noiseStd) {
    // Gaussian noise from a table of normal quantiles, indexed by an inline xorshift seeded from `random`.
    const scale = random() * a.noiseStd
    const normals = normalTable()
    let state = Math.floor(random() * 0xffffffff) | 1
    for (let i = 0; i < rgb.length; i++) {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      rgb[i] = clamp01(rgb[i] + normals[state & 0xffff] * scale)
    }
  }
  return { rgb, mask, ids, centre, weight }
}

let normals: Float32Array | undefined

/** 65536 standard-normal quantiles (inverse CDF by bisection on erf), built once. */
function normalTable(): Float32Array {
  if (normals) return normals
  const table = new Float32Array(65536)
  for (let i = 0; i < table.length; i++) {
    const p = (i + 0.5) / table.length
    let lo = -6
    let hi = 6
    for (let k = 0; k < 30; k++) {
      const mid = (lo + hi) / 2
      if (0.5 * (1 + erf(mid / Math.SQRT2)) < p) lo = mid
      else hi = mid
    }
    table[i] = (lo + hi) / 2
  }
  return (normals = table)
}

// Abramowitz-Stegun 7.1.26 (error below 1.5e-7).
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return x < 0 ? -y : y
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v)

// Rotation about the centre (cos, sin) after flips; bilinear for the photo, nearest for the mask, ids, leaf centres and weights, edges clamped.
function warp({ rgb, mask, ids, centre, weight }: Example, size: number, cos: number, sin: number, fx: number, fy: number): Example {
  const outRgb = new Float32Array(rgb.length)
  const outMask = new Float32Array(mask.length)
  const outIds = ids && new Float32Array(ids.length)
  const outCentre = centre && new Float32Array(centre.length)
  const outWeight = weight && new Float32Array(weight.length)
  const c = (size - 1) / 2
  const last = size - 1
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - c
      const dy = y - c
      let sx = (cos * dx + sin * dy) * fx + c
      let sy = (-sin * dx + cos * dy) * fy + c
      sx = sx < 0 ? 0 : sx > last ? last : sx
      sy = sy < 0 ? 0 : sy > last ? last : sy
      const x0 = Math.floor(sx)
      const y0 = Math.floor(sy)
      const x1 = x0 < last ? x0 + 1 : last
      const y1 = y0 < last ? y0 + 1 : last
      const wx = sx - x0
      const wy = sy - y0
      const o = y * size + x
      for (let ch = 0; ch < 3; ch++) {
        const top = rgb[(y0 * size + x0) * 3 + ch] * (1 - wx) + rgb[(y0 * size + x1) * 3 + ch] * wx
        const bottom = rgb[(y1 * size + x0) * 3 + ch] * (1 - wx) + rgb[(y1 * size + x1) * 3 + ch] * wx
        outRgb[o * 3 + ch] = top * (1 - wy) + bottom * wy
      }
      const nearest = Math.round(sy) * size + Math.round(sx)
      outMask[o] = mask[nearest]
      if (outIds) outIds[o] = ids![nearest]
      if (outCentre) outCentre[o] = centre![nearest]
      if (outWeight) outWeight[o] = weight![nearest]
    }
  }
  return { rgb: outRgb, mask: outMask, ids: outIds, centre: outCentre, weight: outWeight }
}

// Brightness, contrast, saturation and hue as one affine colour transform, then clamped to 0..1.
function colorJitter(rgb: Float32Array, brightness: number, contrast: number, saturation: number, hueDegrees: number): void {
  // Hue: rotation about the grey axis (YIQ), saturation: blend with luma, both linear.
  const h = (hueDegrees * Math.PI) / 180
  const cosH = Math.cos(h)
  const sinH = Math.sin(h)
  const toYiq = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312]
  const toRgb = [1, 0.956, 0.621, 1, -0.272, -0.647, 1, -1.106, 1.703]
  const mid = [1, 0, 0, 0, saturation * cosH, -saturation * sinH, 0, saturation * sinH, saturation * cosH]
  const m = mul3(toRgb, mul3(mid, toYiq)).map((v) => v * brightness * contrast)
  let mean = 0
  for (let i = 0; i < rgb.length; i += 3) mean += 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2]
  mean = (mean / (rgb.length / 3)) * brightness
  const offset = mean * (1 - contrast)
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]
    const g = rgb[i + 1]
    const b = rgb[i + 2]
    rgb[i] = clamp01(m[0] * r + m[1] * g + m[2] * b + offset)
    rgb[i + 1] = clamp01(m[3] * r + m[4] * g + m[5] * b + offset)
    rgb[i + 2] = clamp01(m[6] * r + m[7] * g + m[8] * b + offset)
  }
}

function mul3(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0)
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j]
  return out
}

// Separable Gaussian blur of an interleaved RGB image, edges clamped: each row, then each column, is copied
// into an edge-extended line buffer and convolved back in place.
function blur(rgb: Float32Array, size: number, sigma: number): void {
  const radius = Math.max(1, Math.ceil(sigma * 2.5))
  const taps = 2 * radius + 1
  const weights = new Float32Array(taps)
  let total = 0
  for (let i = -radius; i <= radius; i++) total += weights[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma))
  for (let i = 0; i < taps; i++) weights[i] /= total
  const line = new Float32Array((size + 2 * radius) * 3)
  for (const horizontal of [true, false]) {
    const step = horizontal ? 3 : size * 3 // distance between neighbouring pixels along the line
    for (let l = 0; l < size; l++) {
      const start = horizontal ? l * size * 3 : l * 3
      for (let i = -radius; i < size + radius; i++) {
        const p = start + (i < 0 ? 0 : i >= size ? size - 1 : i) * step
        const d = (i + radius) * 3
        line[d] = rgb[p]
        line[d + 1] = rgb[p + 1]
        line[d + 2] = rgb[p + 2]
      }
      for (let i = 0; i < size; i++) {
        let r = 0
        let g = 0
        let b = 0
        for (let k = 0, q = i * 3; k < taps; k++, q += 3) {
          const w = weights[k]
          r += w * line[q]
          g += w * line[q + 1]
          b += w * line[q + 2]
        }
        const p = start + i * step
        rgb[p] = r
        rgb[p + 1] = g
        rgb[p + 2] = b
      }
    }
  }
}

/**
 * `count` augmented versions of one photo and its mask at size×size, as 8-bit rasters (for the UI's
 * "show augmented samples"). Same seed, same pictures.
 */
export async function augmentedPreviews(
  sample: Sample,
  options: { size: number; count: number; augment?: AugmentOptions; seed?: number; sampling?: Sampling }
): Promise<Array<{ photo: Raster; mask: Raster }>> {
  const { size, count, augment = DEFAULT_AUGMENT, seed = 1, sampling } = options
  const out: Array<{ photo: Raster; mask: Raster }> = []
  for (let i = 0; i < count; i++) {
    const { rgb, mask } = await loadExample(sample, size, augment, seededRandom(mixSeed(seed, i)), sampling)
    const photo = new Uint8Array(rgb.length)
    for (let j = 0; j < rgb.length; j++) photo[j] = Math.round(rgb[j] * 255)
    const mask8 = new Uint8Array(mask.length)
    for (let j = 0; j < mask.length; j++) mask8[j] = mask[j] ? 255 : 0
    out.push({ photo: { width: size, height: size, channels: 3, data: photo }, mask: { width: size, height: size, channels: 1, data: mask8 } })
  }
  return out
}

export interface BatchOptions {
  batchSize: number
  size: number
  /** null: no augmentation and no shuffling (validation). */
  augment: AugmentOptions | null
  seed: number
  epoch: number
  sampling?: Sampling
  /**
   * Targets for an instance network: leaf, leaf centre and the centre's loss weight per pixel (centre -1 and weight
   * 0 where a mask has no instances).
   */
  instances?: boolean
  signal?: AbortSignal
}

/** Shuffled order of the samples for one epoch (Fisher-Yates with the epoch's seed). */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i)
  const random = seededRandom(mixSeed(seed, epoch, 0x5eed))
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

export function batchCount(samples: number, batchSize: number): number {
  return Math.ceil(samples / batchSize)
}

async function loadBatch(samples: Sample[], indices: number[], o: BatchOptions): Promise<Batch> {
  const pixels = o.size * o.size
  const examples = await Promise.all(
    indices.map((i) => loadExample(samples[i], o.size, o.augment, seededRandom(mixSeed(o.seed, o.epoch, i)), o.sampling, o.instances))
  )
  const x = new Float32Array(indices.length * pixels * 3)
  const channels = o.instances ? 3 : 1
  const y = new Float32Array(indices.length * pixels * channels)
  examples.forEach((e, k) => {
    x.set(e.rgb, k * pixels * 3)
    if (!o.instances) return y.set(e.mask, k * pixels)
    for (let i = 0; i < pixels; i++) {
      const at = (k * pixels + i) * channels
      y[at] = e.mask[i]
      y[at + 1] = e.centre ? e.centre[i] : -1
      y[at + 2] = e.centre ? (e.weight ? e.weight[i] : 1) : 0
    }
  })
  return { x, y, n: indices.length, ids: indices.map((i) => samples[i].id) }
}

/**
 * The epoch's batches, read from disk; the next batch is decoded while the caller works on the current
 * one. The last batch may be smaller.
 */
export async function* streamBatches(samples: Sample[], o: BatchOptions): AsyncGenerator<Batch> {
  const order = o.augment ? epochOrder(samples.length, o.seed, o.epoch) : samples.map((_, i) => i)
  const slices: number[][] = []
  for (let i = 0; i < order.length; i += o.batchSize) slices.push(order.slice(i, i + o.batchSize))
  let next: Promise<Batch> | undefined = slices.length ? loadBatch(samples, slices[0], o) : undefined
  for (let b = 0; b < slices.length; b++) {
    o.signal?.throwIfAborted()
    const current = await next!
    next = b + 1 < slices.length ? loadBatch(samples, slices[b + 1], o) : undefined
    // A prefetch that fails after the consumer stopped must not become an unhandled rejection.
    next?.catch(() => {})
    yield current
  }
}
