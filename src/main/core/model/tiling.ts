// Full-resolution prediction of a photo of any size with a network that takes a fixed square input.
//
// Tiled mode (default): the photo is covered by overlapping square tiles of the network's input size, evenly spread
// so that the first tile starts at the left/top edge, the last ends at the right/bottom edge, and neighbours share at
// least `overlap` of a tile. Each tile's probabilities are weighted by a separable raised-cosine ramp over the first
// and last `ramp` pixels of the tile (weight sin²(π·(i+½)/(2·ramp)), never 0, 1 in the middle) and the weighted sum is
// divided by the summed weights. Where two ramps cross, their weights add up to 1, so the result passes smoothly from
// one tile to the next: the network's unreliable tile borders get almost no say and there is no seam. At the photo's
// own border only one tile covers a pixel and the division by its (small but non-zero) weight gives its value back.
//
// A photo (or one side of it) smaller than the input is padded by mirroring (reflect-101) to the input size, not
// enlarged: enlarging would change the apparent size of leaves and veins, which the network has learned at a fixed
// scale. Mirrored padding continues the image's texture instead of adding a black frame the network never saw.
//
// `scale` sets the working resolution: with scale 0.5 the photo is halved (area averaging), tiled, and the
// probabilities are enlarged back (bilinear) to the photo's size. It must match the scale the model was trained at:
// a model trained on whole photos shrunk to its input sees leaves far larger than it learned when tiled at scale 1.
//
// Resize mode: the whole photo is resized (aspect ratio not kept) to the input, predicted once and the probabilities
// resized back — how the model saw photos when trained on whole resized photos; kept for comparison.
import type { Raster } from '../imaging/raster'
import { opencv } from '../imaging/opencv'
import type { InferenceModel } from './onnx-engine'
import { SEED_LEVEL } from './leaf-rules'

/** What the U-Net helper exposes; any function of this shape works. */
export interface Predictor {
  /** Side of the square network input, in pixels. */
  inputSize: number
  /** Values per output pixel: 1 (leaf), or 2 for a network that separates leaves (leaf, leaf centre). Default 1. */
  channels?: number
  /** rgb: n × inputSize × inputSize × 3 values in 0..1 (row-major, RGB interleaved) -> n × inputSize × inputSize × channels probabilities. */
  predictBatch(rgb: Float32Array, n: number): Promise<Float32Array>
}

/** Per-pixel leaf probabilities, row-major. */
export interface ProbabilityMap {
  width: number
  height: number
  data: Float32Array
  /** From a network that separates leaves: per pixel, how far inside its leaf it lies (1 on a leaf's middle, 0 at its edge; model/instances.ts). */
  centre?: Float32Array
}

export interface PredictOptions {
  /** 'tiled' (default) or 'resize' (whole photo squeezed to the input, for comparison). */
  mode?: 'tiled' | 'resize'
  /** Fraction of a tile shared with its neighbour, 0 to 0.75 (default 0.25). 0 gives hard seams. */
  overlap?: number
  /** Working scale applied to the photo before tiling (default 1 = full resolution). */
  scale?: number
  /** Tiles per predictBatch call (default 8). */
  batchSize?: number
  /** Name used in error messages. */
  photo?: string
  signal?: AbortSignal
  /** Called after each batch with tiles done and tiles in all. */
  onProgress?: (done: number, total: number, message?: string) => void
}

/**
 * Start positions of tiles of `tile` pixels covering `length` pixels with at least `overlap` (fraction) shared
 * between neighbours; one tile at 0 when length <= tile (the rest is padding).
 */
export function tilePositions(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0]
  const stride = Math.max(1, Math.floor(tile * (1 - overlap)))
  const count = Math.ceil((length - tile) / stride) + 1
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - tile)) / (count - 1)))
}

/** 1-D blending weight along one side of a tile: raised-cosine ramps of `ramp` pixels at both ends, never 0. */
export function blendWeights(tile: number, ramp: number): Float32Array {
  const w = new Float32Array(tile).fill(1)
  const r = Math.min(ramp, Math.floor(tile / 2))
  for (let i = 0; i < r; i++) {
    const v = Math.sin((Math.PI * (i + 0.5)) / (2 * r)) ** 2
    w[i] = v
    w[tile - 1 - i] = v
  }
  return w
}

/** Predict leaf probabilities for every pixel of a photo (3- or 4-channel raster; alpha ignored). */
export async function predictPhoto(predictor: Predictor, photo: Raster, options: PredictOptions = {}): Promise<ProbabilityMap> {
  const name = options.photo ?? 'the photo'
  const overlap = options.overlap ?? 0.25
  const scale = options.scale ?? 1
  const batchSize = options.batchSize ?? 8
  if (photo.channels === 1) throw new Error(`${name} is a gray image; prediction needs a colour (RGB) photo`)
  if (photo.width < 1 || photo.height < 1) throw new Error(`${name} has no pixels`)
  if (!(overlap >= 0 && overlap <= 0.75)) throw new Error(`The tile overlap must be between 0 and 0.75, got ${overlap}`)
  if (!(scale > 0 && scale <= 4)) throw new Error(`The working scale must be above 0 and at most 4, got ${scale}`)
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`The batch size must be a whole number ≥ 1, got ${batchSize}`)
  if (!(Number.isInteger(predictor.inputSize) && predictor.inputSize >= 1)) throw new Error(`The model's input size ${predictor.inputSize} is not a valid size`)
  options.signal?.throwIfAborted()

  const rgb = toRgb(photo)
  if (options.mode === 'resize') {
    const size = predictor.inputSize
    const small = resizeRgb(rgb, size, size)
    options.onProgress?.(0, 1, name)
    const probabilities = await predictChecked(predictor, toUnitFloats(small.data), 1, name)
    options.signal?.throwIfAborted()
    options.onProgress?.(1, 1, name)
    return resizeProbabilities(splitChannels(probabilities, size, size, predictor.channels ?? 1), photo.width, photo.height)
  }
  if (scale === 1) return predictTiled(predictor, rgb, overlap, batchSize, name, options)
  const working = resizeRgb(rgb, Math.max(1, Math.round(photo.width * scale)), Math.max(1, Math.round(photo.height * scale)))
  const probabilities = await predictTiled(predictor, working, overlap, batchSize, name, options)
  return resizeProbabilities(probabilities, photo.width, photo.height)
}

async function predictTiled(
  predictor: Predictor,
  rgb: Raster,
  overlap: number,
  batchSize: number,
  name: string,
  options: PredictOptions
): Promise<ProbabilityMap> {
  const { width, height } = rgb
  const size = predictor.inputSize
  // The canvas is the photo padded by mirroring to at least the tile size; only photo pixels are accumulated.
  const columnSource = mirroredIndices(Math.max(width, size), width)
  const rowSource = mirroredIndices(Math.max(height, size), height)
  const tiles: { x: number; y: number }[] = []
  for (const y of tilePositions(rowSource.length, size, overlap)) {
    for (const x of tilePositions(columnSource.length, size, overlap)) tiles.push({ x, y })
  }
  const weights = blendWeights(size, size - Math.max(1, Math.floor(size * (1 - overlap))))
  const channels = predictor.channels ?? 1
  const sum = new Float32Array(width * height * channels)
  const weightSum = new Float32Array(width * height)
  const pixels = rgb.data
  const tilePixels = size * size

  const tilesAt = (start: number) => {
    const batch = tiles.slice(start, start + batchSize)
    const input = new Float32Array(batch.length * tilePixels * 3)
    batch.forEach((tile, t) => {
      let o = t * tilePixels * 3
      for (let j = 0; j < size; j++) {
        const row = rowSource[tile.y + j] * width
        for (let i = 0; i < size; i++) {
          const s = (row + columnSource[tile.x + i]) * 3
          input[o++] = pixels[s] / 255
          input[o++] = pixels[s + 1] / 255
          input[o++] = pixels[s + 2] / 255
        }
      }
    })
    return { batch, input }
  }

  options.onProgress?.(0, tiles.length, name)
  options.signal?.throwIfAborted()
  // While an engine that runs off the JS thread (onnxruntime) predicts one batch, the next one is cut out.
  let next = tilesAt(0)
  let running = predictChecked(predictor, next.input, next.batch.length, name)
  for (let start = 0; start < tiles.length; start += batchSize) {
    const { batch } = next
    const following = start + batchSize < tiles.length ? tilesAt(start + batchSize) : null
    const output = await running
    options.signal?.throwIfAborted()
    batch.forEach((tile, t) => {
      const rows = Math.min(size, height - tile.y)
      const columns = Math.min(size, width - tile.x)
      for (let j = 0; j < rows; j++) {
        const wy = weights[j]
        const from = t * tilePixels + j * size
        const to = (tile.y + j) * width + tile.x
        for (let i = 0; i < columns; i++) {
          const w = wy * weights[i]
          for (let c = 0; c < channels; c++) sum[(to + i) * channels + c] += w * output[(from + i) * channels + c]
          weightSum[to + i] += w
        }
      }
    })
    options.onProgress?.(start + batch.length, tiles.length, name)
    if (following) {
      options.signal?.throwIfAborted()
      next = following
      running = predictChecked(predictor, following.input, following.batch.length, name)
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= weightSum[Math.floor(i / channels)]
  return splitChannels(sum, width, height, channels)
}

/** Interleaved leaf (and leaf centre) values as a ProbabilityMap; one channel is used as it is. */
function splitChannels(values: Float32Array, width: number, height: number, channels: number): ProbabilityMap {
  if (channels === 1) return { width, height, data: values }
  const data = new Float32Array(width * height)
  const centre = new Float32Array(width * height)
  for (let i = 0; i < data.length; i++) {
    data[i] = values[i * channels]
    centre[i] = values[i * channels + 1]
  }
  return { width, height, data, centre }
}

async function predictChecked(predictor: Predictor, input: Float32Array, n: number, name: string): Promise<Float32Array> {
  const size = predictor.inputSize
  const expected = n * size * size * (predictor.channels ?? 1)
  const output = await predictor.predictBatch(input, n)
  if (output.length !== expected) {
    throw new Error(`While predicting ${name}, the model returned ${output.length} values for ${n} tiles of ${size}×${size} pixels (expected ${expected})`)
  }
  return output
}

// For each canvas position 0..canvas-1, the photo index it shows: itself inside, mirrored (reflect-101) beyond.
function mirroredIndices(canvas: number, length: number): Int32Array {
  const out = new Int32Array(canvas)
  const period = 2 * (length - 1)
  for (let i = 0; i < canvas; i++) {
    if (period === 0) continue
    const m = i % period
    out[i] = m < length ? m : period - m
  }
  return out
}

function toRgb(photo: Raster): Raster {
  if (photo.channels === 3) return photo
  const data = new Uint8Array(photo.width * photo.height * 3)
  for (let i = 0, o = 0; o < data.length; i += 4) {
    data[o++] = photo.data[i]
    data[o++] = photo.data[i + 1]
    data[o++] = photo.data[i + 2]
  }
  return { width: photo.width, height: photo.height, channels: 3, data }
}

function toUnitFloats(data: Uint8Array): Float32Array {
  const out = new Float32Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255
  return out
}

// Area averaging when shrinking (no aliasing), bilinear when enlarging.
function resizeWithOpencv(
  type: 'rgb8' | 'float',
  data: Uint8Array | Float32Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number
): Uint8Array | Float32Array {
  const cv = opencv()
  const source = new cv.Mat(height, width, type === 'rgb8' ? cv.CV_8UC3 : cv.CV_32FC1)
  const target = new cv.Mat()
  try {
    ;(type === 'rgb8' ? source.data : source.data32F).set(data)
    const shrinking = toWidth * toHeight < width * height
    cv.resize(source, target, new cv.Size(toWidth, toHeight), 0, 0, shrinking ? cv.INTER_AREA : cv.INTER_LINEAR)
    return type === 'rgb8' ? new Uint8Array(target.data) : new Float32Array(target.data32F)
  } finally {
    source.delete()
    target.delete()
  }
}

function resizeRgb(rgb: Raster, width: number, height: number): Raster {
  if (rgb.width === width && rgb.height === height) return rgb
  return { width, height, channels: 3, data: resizeWithOpencv('rgb8', rgb.data, rgb.width, rgb.height, width, height) as Uint8Array }
}

function resizeProbabilities(map: ProbabilityMap, width: number, height: number): ProbabilityMap {
  if (map.width === width && map.height === height) return map
  const resize = (values: Float32Array) => resizeWithOpencv('float', values, map.width, map.height, width, height) as Float32Array
  return { width, height, data: resize(map.data), ...(map.centre && { centre: resize(map.centre) }) }
}

/**
 * A loaded model as a full-resolution predictor: one trained on whole photos squeezed to its input predicts
 * the same way; one trained on crops tiles the photo at the scale it was trained at, so a 4000×3000 photo
 * keeps its detail.
 */
export function fullResolution(model: Pick<InferenceModel, 'inputSize' | 'meta' | 'predictBatch'>): { predictor: Predictor; options: PredictOptions } {
  const sampling = model.meta?.sampling
  const options: PredictOptions = sampling?.mode === 'crops' ? { mode: 'tiled', scale: sampling.scale, overlap: 0.25 } : { mode: sampling ? 'resize' : 'tiled' }
  const asIs = async (rgb: Float32Array, n: number) => model.predictBatch(rgb, n)
  if (!model.meta?.instances) return { predictor: { inputSize: model.inputSize, channels: 1, predictBatch: asIs }, options }
  if (model.meta.leafMap === 'centre') {
    // The run's own seed level (chosen on its validation photos) becomes the decoder's SEED_LEVEL: a monotone rescaling.
    const gain = SEED_LEVEL / (model.meta.seedLevel ?? SEED_LEVEL)
    if (gain === 1) return { predictor: { inputSize: model.inputSize, channels: 2, predictBatch: asIs }, options }
    const calibrated = async (rgb: Float32Array, n: number) => {
      const out = await model.predictBatch(rgb, n)
      for (let i = 1; i < out.length; i += 2) out[i] = Math.min(1, out[i] * gain)
      return out
    }
    return { predictor: { inputSize: model.inputSize, channels: 2, predictBatch: calibrated }, options }
  }
  // A leaf run from before leaf centres (its second channel is a touching band): its leaf channel still makes masks.
  const leafOnly = async (rgb: Float32Array, n: number) => {
    const both = await model.predictBatch(rgb, n)
    return Float32Array.from({ length: both.length / 2 }, (_, i) => both[i * 2])
  }
  return { predictor: { inputSize: model.inputSize, channels: 1, predictBatch: leafOnly }, options }
}
