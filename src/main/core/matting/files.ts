// File-level matting for the CLI and the job process: trimap PNG from a mask PNG; alpha (and cutout) PNG
// from a photo and its trimap; a sequential batch with progress and cancel.
import { errorMessage } from '../../../shared/errors'
import { basename } from 'node:path'
import sharp from 'sharp'
import { readRaster, writePng } from '../imaging/raster'
import { alphaToBytes, closedFormMatte, type ClosedFormOptions } from './closedForm'
import { estimateForeground, makeCutout } from './foreground'
import { TrimapMaker, validateTrimap, type ResolvedTrimapOptions, type TrimapOptions, type TrimapStats } from './trimap'

export interface JobControl {
  signal?: AbortSignal
  onProgress?: (done: number, total: number, message?: string) => void
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError'
}

/** Width and height of an image as readRaster will decode it (EXIF orientation applied), without decoding it. */
async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const { width, height, orientation } = await sharp(path).metadata()
    if (!width || !height) throw new Error('no size in the file')
    return orientation && orientation >= 5 ? { width: height, height: width } : { width, height }
  } catch (err) {
    throw new Error(`Cannot read the image ${path}: ${(err as Error).message}`)
  }
}

/**
 * Reads a mask PNG (leaf >= 128), writes its trimap PNG (0/128/255). With `photo`, the mask must have the
 * photo's size. Errors name the file at fault. Returns the class counts and the settings used ('auto' fits them).
 */
export async function writeTrimapForMask(
  maskPath: string,
  trimapPath: string,
  options: TrimapOptions & { photo?: string } = {}
): Promise<TrimapStats & { settings: ResolvedTrimapOptions }> {
  const mask = await readRaster(maskPath, 1)
  if (options.photo) {
    const photo = await imageSize(options.photo)
    if (photo.width !== mask.width || photo.height !== mask.height)
      throw new Error(
        `The mask ${maskPath} is ${mask.width}×${mask.height} but its photo ${options.photo} is ${photo.width}×${photo.height}; they must be the same size.`
      )
  }
  const maker = new TrimapMaker(mask.width, mask.height)
  let made: ReturnType<TrimapMaker['make']>
  try {
    made = maker.make(mask.data, options)
  } catch (err) {
    throw new Error(`Cannot make a trimap from the mask ${maskPath}: ${(err as Error).message}.`)
  } finally {
    maker.dispose()
  }
  await writePng(trimapPath, { width: mask.width, height: mask.height, channels: 1, data: made.trimap })
  return { ...made.stats, settings: made.settings }
}

export interface MatteItem {
  image: string
  trimap: string
  alphaOut: string
  /** When set, also write an RGBA cutout (alpha as transparency). */
  cutoutOut?: string
}

export interface MatteFileOptions extends ClosedFormOptions {
  /** Cutout colours: the estimated foreground (default, no background fringe) or the photo's own. */
  cutoutColours?: 'foreground' | 'photo'
}

export interface MatteFileResult {
  width: number
  height: number
  unknownPixels: number
  iterations: number
  seconds: number
}

/**
 * Reads a photo and its trimap, checks them, computes the alpha matte, writes it as an 8-bit PNG
 * (and a cutout PNG when asked). Errors name the file at fault.
 */
export async function matteFile(item: MatteItem, options: MatteFileOptions = {}): Promise<MatteFileResult> {
  const started = performance.now()
  const photo = await readRaster(item.image, 3)
  const trimap = await readRaster(item.trimap, 1)
  if (trimap.width !== photo.width || trimap.height !== photo.height)
    throw new Error(
      `The trimap ${item.trimap} is ${trimap.width}×${trimap.height} but its photo ${item.image} is ${photo.width}×${photo.height}; they must be the same size.`
    )
  validateTrimap(trimap.data, trimap.width, trimap.height, `The trimap ${item.trimap}`)
  options.signal?.throwIfAborted()
  let result
  try {
    result = closedFormMatte(photo.data, trimap.data, photo.width, photo.height, options)
  } catch (err) {
    if (isAbort(err)) throw err
    throw new Error(`Cannot compute the alpha matte of ${item.image} with ${basename(item.trimap)}: ${(err as Error).message}.`)
  }
  await writePng(item.alphaOut, { width: photo.width, height: photo.height, channels: 1, data: alphaToBytes(result.alpha) })
  if (item.cutoutOut) {
    const foreground =
      options.cutoutColours === 'photo'
        ? undefined
        : estimateForeground(photo.data, result.alpha, photo.width, photo.height, { signal: options.signal }).foreground
    await writePng(item.cutoutOut, makeCutout(photo.data, result.alpha, photo.width, photo.height, foreground))
  }
  return {
    width: photo.width,
    height: photo.height,
    unknownPixels: result.unknownPixels,
    iterations: result.iterations,
    seconds: (performance.now() - started) / 1000
  }
}

export interface BatchOutcome {
  done: Array<{ item: MatteItem; result: MatteFileResult }>
  /** Items that could not be matted, each with a message naming the file; the batch goes on past them. */
  failed: Array<{ item: MatteItem; message: string }>
}

/**
 * Mattes the items one after another. A bad item is recorded in `failed` and the batch continues;
 * cancelling (signal) throws AbortError between or inside items. Outputs already written stay.
 */
export async function matteBatch(items: MatteItem[], options: MatteFileOptions & JobControl = {}): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [] }
  options.onProgress?.(0, items.length)
  for (let i = 0; i < items.length; i++) {
    options.signal?.throwIfAborted()
    const item = items[i]
    try {
      outcome.done.push({ item, result: await matteFile(item, options) })
    } catch (err) {
      if (isAbort(err)) throw err
      outcome.failed.push({ item, message: errorMessage(err) })
    }
    options.onProgress?.(i + 1, items.length, basename(item.image))
  }
  return outcome
}
