// Decoded pixels as plain typed arrays, read and written through sharp, and the words for a broken image file.
import sharp, { type Sharp } from 'sharp'
import { open, readFile } from 'node:fs/promises'
import { decodeBmp, looksLikeBmp } from './bmp'
import { writeAtomic } from '../store/atomic'

/** Interleaved 8-bit pixels, row-major. channels: 1 (gray), 3 (RGB) or 4 (RGBA). */
export interface Raster {
  width: number
  height: number
  channels: 1 | 3 | 4
  data: Uint8Array
}

/** Largest image, in pixels: sharp's own limit (0x3FFF²), so nothing is promised that cannot be decoded. */
export const maxImagePixels = 0x3fff * 0x3fff

/** "it declares 20000×20000 = 400,000,000 pixels, more than the 268,402,689 pixels Leafseg can read" */
export function declaredPixels(width: number, height: number): string {
  return `it declares ${width}×${height} = ${(width * height).toLocaleString('en')} pixels, more than the ${maxImagePixels.toLocaleString('en')} pixels Leafseg can read`
}

/**
 * Decode an image file to `channels` 8-bit channels, EXIF orientation applied.
 * 16-bit images are scaled to 8 bits. The error (an ImageReadError) names the file and says what is wrong with it.
 */
export async function readRaster(path: string, channels: 1 | 3 | 4): Promise<Raster> {
  try {
    let img = (await openImage(path)).rotate()
    img = channels === 1 ? img.grayscale() : channels === 3 ? img.removeAlpha().toColourspace('srgb') : img.ensureAlpha()
    const { data, info } = await img.toColourspace(channels === 1 ? 'b-w' : 'srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`)
    return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
  } catch (err) {
    // In the words import uses for the same kind of broken file ("… is cut short (truncated) …").
    throw await describeDecodeFailure(path, err)
  }
}

/** Write a raster as PNG atomically (store/atomic). */
export async function writePng(path: string, raster: Raster): Promise<void> {
  const { width, height, channels, data } = raster
  await writeAtomic(path, (tmp) =>
    sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels } })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb') // one-channel rasters stay gray PNGs
      .png()
      .toFile(tmp)
  )
}

export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'bmp' | 'webp'

/** The image format from a file's first bytes (at least 18), or null when it is none Leafseg reads. */
export function sniffImageFormat(head: Uint8Array): ImageFormat | null {
  const at = (i: number, ...bytes: number[]): boolean => bytes.every((b, k) => head[i + k] === b)
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg'
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png'
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a) || at(0, 0x49, 0x49, 0x2b, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2b)) return 'tiff'
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp'
  if (looksLikeBmp(head)) return 'bmp'
  return null
}

/** Read the first `n` bytes of a file. */
export async function readHead(path: string, n = 32): Promise<Uint8Array> {
  const fh = await open(path, 'r')
  try {
    const buf = new Uint8Array(n)
    const { bytesRead } = await fh.read(buf, 0, n, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/** An image's size as displayed (EXIF orientation applied), read from its header without decoding; null when unreadable. */
export async function displayedSize(path: string): Promise<{ width: number; height: number } | null> {
  try {
    // Headers only: no pixel limit here, so that an image over it can be named with its size.
    const head = sniffImageFormat(await readHead(path)) === 'bmp' ? await openImage(path) : sharp(path, { limitInputPixels: false })
    const meta = await head.metadata()
    if (!meta.width || !meta.height) return null
    const swap = (meta.orientation ?? 1) >= 5
    return meta.autoOrient ?? (swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height })
  } catch {
    return null
  }
}

/**
 * A sharp pipeline for any image Leafseg reads, BMP included (decoded here: libvips has no BMP loader).
 * Orientation is not applied yet (call .rotate()). Errors name the problem, not the file.
 */
export async function openImage(path: string): Promise<Sharp> {
  const head = await readHead(path)
  if (sniffImageFormat(head) === 'bmp') {
    const bmp = decodeBmp(await readFile(path))
    return sharp(Buffer.from(bmp.data.buffer, bmp.data.byteOffset, bmp.data.length), {
      raw: { width: bmp.width, height: bmp.height, channels: bmp.channels }
    })
  }
  return sharp(path, { failOn: 'truncated' })
}

// One set of words for each kind of broken image file, used wherever Leafseg reads one (import, masks, predict,
// trimaps, mattes, evaluation), so that a truncated PNG reads the same everywhere instead of as libvips' message.

export type ImageProblemKind = 'zero-bytes' | 'not-an-image' | 'truncated' | 'unreadable' | 'unsupported' | 'too-large'

/** What is wrong, after the file's name ("photo.png is cut short …"). */
export const imageProblemWords: Record<ImageProblemKind, string> = {
  'zero-bytes': 'is empty (0 bytes); it was probably not copied completely',
  'not-an-image': 'is not an image Leafseg can read (JPEG, PNG, TIFF, BMP or WebP), whatever its name says',
  truncated: 'is cut short (truncated): the end of the image is missing; copy it again from the camera or the original',
  unreadable: 'cannot be read as an image; it may be damaged or cut short',
  unsupported: 'is an image of a kind Leafseg cannot read',
  'too-large': 'is too large an image for Leafseg'
}

/** "<path> is cut short (truncated): … (detail)" */
export function imageProblemMessage(kind: ImageProblemKind, path: string, detail?: string): string {
  return `${path} ${imageProblemWords[kind]}${detail ? ` (${detail})` : ''}`
}

/** An image file that could not be decoded: its path, the kind of problem, and the message in those words. */
export class ImageReadError extends Error {
  constructor(
    readonly path: string,
    readonly kind: ImageProblemKind,
    readonly detail?: string
  ) {
    super(imageProblemMessage(kind, path, detail))
    this.name = 'ImageReadError'
  }

  /** The same words about another subject: "The mask of plant031.png is cut short …". */
  about(subject: string): string {
    return `${subject} ${imageProblemWords[this.kind]}${this.detail ? ` (${this.detail})` : ''}`
  }
}

/** JPEG files end with the EOI marker (FF D9) and PNG files with an IEND chunk; a file cut short has neither. */
export async function lacksEndMarker(path: string, format: ImageFormat): Promise<boolean> {
  if (format !== 'jpeg' && format !== 'png') return false
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const tail = Buffer.alloc(Math.min(size, 64))
    await handle.read(tail, 0, tail.length, size - tail.length)
    return format === 'jpeg' ? tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0 : tail.lastIndexOf(Buffer.from('IEND', 'latin1')) < 0
  } finally {
    await handle.close()
  }
}

export function classifyDecodeError(message: string): ImageProblemKind {
  if (/premature end|truncat|unexpected end|read error|not enough data|ends (before|inside)/i.test(message)) return 'truncated'
  if (/Leafseg cannot read|bits per pixel/i.test(message)) return 'unsupported'
  return 'unreadable'
}

/**
 * A decoder's failure on `path` in the words above. libvips' wording varies (and can mix under concurrent
 * decodes), so a missing end marker decides first; the decoder's own message stays as the detail.
 */
export async function describeDecodeFailure(path: string, err: unknown): Promise<ImageReadError> {
  const message = (err as Error).message
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new ImageReadError(path, 'unreadable', 'it is no longer there')
  if (code === 'EACCES' || code === 'EPERM') return new ImageReadError(path, 'unreadable', 'permission denied')
  const declared = /pixel limit/i.test(message) ? await displayedSize(path).catch(() => null) : null
  if (declared) return new ImageReadError(path, 'too-large', declaredPixels(declared.width, declared.height))
  const head = await readHead(path).catch(() => null)
  if (head === null) return new ImageReadError(path, 'unreadable', message)
  if (head.length === 0) return new ImageReadError(path, 'zero-bytes')
  const format = sniffImageFormat(head)
  if (format === null) return new ImageReadError(path, 'not-an-image')
  const kind = (await lacksEndMarker(path, format).catch(() => false)) ? 'truncated' : classifyDecodeError(message)
  // The first bytes said `format`, so a decoder that does not recognise it means damage, often a cut-short file.
  return new ImageReadError(path, kind, kind === 'unreadable' ? `it starts like a ${format.toUpperCase()} file but cannot be decoded: ${message}` : message)
}
