// One set of words for each kind of broken image file, used wherever Leafseg reads one (import, masks, predict,
// trimaps, mattes, evaluation), so that a truncated PNG reads the same everywhere instead of as libvips' message.
import { open } from 'node:fs/promises'
import { declaredPixels, displayedSize, readHead, sniffImageFormat, type ImageFormat } from './raster'

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
