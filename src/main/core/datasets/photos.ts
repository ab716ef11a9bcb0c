// Photo import, the file side: find photos in folders, then for each one its content hash, size,
// oriented width/height and a thumbnail, or the reason it cannot be used. The store records the results.
//
//   const { files } = await scanPhotos([folder], { signal, onProgress })
//   await inspectPhotos(files, { thumbnail: { path: (hash) => join(thumbs, `${hash}.webp`) }, onResult: record })
//   findDuplicates(okResults)
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import { join, basename, resolve } from 'node:path'
import { describeDecodeFailure, imageProblemMessage, openImage, readHead, sniffImageFormat, type ImageFormat, type ImageProblemKind } from '../imaging/raster'
import { forEachBounded, hasImageExtension } from './util'
import { writeAtomic } from '../store/atomic'
import { declaredPixels, maxImagePixels } from './limits'

export type { ImageFormat }

export interface Progress {
  signal?: AbortSignal
  onProgress?: (done: number, total: number, message?: string) => void
}

export type PhotoProblemKind = ImageProblemKind

export interface PhotoProblem {
  kind: PhotoProblemKind
  /** Names the file and says what is wrong, for the user. */
  message: string
}

/** A file found by scanPhotos: an image by its content, or a file named like an image that is not one. */
export interface ScannedFile {
  path: string
  size: number
  format: ImageFormat | null
  problem?: PhotoProblem
}

export interface ScanResult {
  /** Sorted by path. Files with a problem are included so the user can be told about them. */
  files: ScannedFile[]
  /** Files skipped because they are neither images nor named like images (notes, spreadsheets, …). */
  ignored: number
  /** Sub-folders that could not be listed (permissions); the rest of the scan went on. */
  unreadableFolders: Array<{ path: string; message: string }>
  /** Leafseg project folders met while scanning: skipped, their thumbnails and database are not photos. */
  skippedProjects: Array<{ path: string; message: string }>
}

export { hasImageExtension }

/** A project's database file (project.ts's databaseFileName; repeated here so the scanner needs no project code). */
const projectDatabaseName = 'leafseg.sqlite'

/**
 * Find photos in folders (recursively) and loose files. Files are recognised by their first bytes, so
 * `IMG_0001` without an extension is found and a text file named `.jpg` is reported, not imported.
 * Hidden files and folders (name starting with '.') are skipped: they are system files such as `._IMG.jpg`.
 */
export async function scanPhotos(inputs: string[], opts: Progress = {}): Promise<ScanResult> {
  const files: ScannedFile[] = []
  const unreadableFolders: ScanResult['unreadableFolders'] = []
  const skippedProjects: ScanResult['skippedProjects'] = []
  let ignored = 0
  let seen = 0
  const visitedDirs = new Set<string>()

  const visitFile = async (path: string, size: number): Promise<void> => {
    seen++
    const named = hasImageExtension(path)
    if (size === 0) {
      if (named) files.push({ path, size, format: null, problem: problemFor('zero-bytes', path) })
      else ignored++
      return
    }
    let format: ImageFormat | null
    try {
      format = sniffImageFormat(await readHead(path))
    } catch (err) {
      if (named) files.push({ path, size, format: null, problem: { kind: 'unreadable', message: `Cannot read ${path}: ${(err as Error).message}` } })
      else ignored++
      return
    }
    if (format) files.push({ path, size, format })
    else if (named) files.push({ path, size, format: null, problem: problemFor('not-an-image', path) })
    else ignored++
  }

  const visit = async (path: string, top: boolean): Promise<void> => {
    opts.signal?.throwIfAborted()
    let info
    try {
      info = await stat(path)
    } catch (err) {
      if (top) throw new Error(`Cannot open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`)
      return // a broken link inside a folder
    }
    if (info.isDirectory()) {
      const real = await realpath(path)
      if (visitedDirs.has(real)) return // a link loop or the same folder given twice
      visitedDirs.add(real)
      let entries: string[]
      try {
        entries = await readdir(path)
      } catch (err) {
        if (top) throw new Error(`Cannot open the folder ${path}: ${(err as Error).message}`)
        unreadableFolders.push({ path, message: `The folder ${path} cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); its photos were not imported` })
        return
      }
      if (entries.includes(projectDatabaseName)) {
        skippedProjects.push({ path, message: `The folder ${path} is a Leafseg project; it was skipped (its thumbnails and database are not photos to import)` })
        return
      }
      for (const name of entries.sort()) {
        if (name.startsWith('.')) continue
        await visit(join(path, name), false)
      }
      opts.onProgress?.(seen, seen, path)
    } else if (info.isFile()) {
      await visitFile(path, info.size)
    }
  }

  for (const input of inputs) await visit(resolve(input), true)
  const unique = new Map(files.map((f) => [f.path, f]))
  return { files: [...unique.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), ignored, unreadableFolders, skippedProjects }
}

/** What inspectPhoto learns about a usable photo. */
export interface PhotoInfo {
  path: string
  /** Bytes on disk. */
  size: number
  /** sha256 of the file's bytes, hex. */
  hash: string
  format: ImageFormat
  /** Width and height as displayed, i.e. after EXIF orientation. */
  width: number
  height: number
  /** EXIF orientation as stored (1 = none). */
  orientation: number
  bitDepth: 8 | 16
  channels: number
  hasAlpha: boolean
  /** Where the thumbnail was written, when one was asked for. */
  thumbnail?: string
}

export type InspectResult = { ok: true; photo: PhotoInfo } | { ok: false; path: string; size: number; problem: PhotoProblem }

export interface ThumbnailOptions {
  /** Where to write the thumbnail, given the photo's hash (so identical photos share one). */
  path: (hash: string) => string
  /** Long side in pixels (default 256). Smaller photos are not enlarged. */
  size?: number
  format?: 'webp' | 'jpeg'
  quality?: number
}

export interface InspectOptions {
  signal?: AbortSignal
  /** Without it the photo is still decoded in full once (cheaply, at reduced size) to find truncated files. */
  thumbnail?: ThumbnailOptions
  /** When given, milliseconds spent per stage are added to it (summed over photos; for benchmarks). */
  timings?: InspectTimings
}

export interface InspectTimings {
  hashMs: number
  probeMs: number
  decodeMs: number
  writeMs: number
}

/** sha256 of a file, streamed, hex. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Hash, probe and thumbnail one photo. Bad files give `{ ok: false, problem }` (the message names the file);
 * a cancel throws; a failure to write the thumbnail (full disk) throws.
 */
export async function inspectPhoto(path: string, opts: InspectOptions = {}): Promise<InspectResult> {
  opts.signal?.throwIfAborted()
  let size = 0
  const refuse = (kind: PhotoProblemKind, detail?: string): InspectResult => ({ ok: false, path, size, problem: problemFor(kind, path, detail) })
  const clock = opts.timings
  let t0 = performance.now()
  const lap = (stage: keyof InspectTimings): void => {
    const now = performance.now()
    if (clock) clock[stage] += now - t0
    t0 = now
  }
  let format: ImageFormat | null
  let hash: string
  try {
    size = (await stat(path)).size
    if (size === 0) return refuse('zero-bytes')
    format = sniffImageFormat(await readHead(path))
    if (!format) return refuse('not-an-image')
    hash = await hashFile(path, opts.signal)
  } catch (err) {
    opts.signal?.throwIfAborted()
    // Moved, deleted or unreadable since the scan: a problem with this photo, not a reason to stop.
    const code = (err as NodeJS.ErrnoException).code
    return refuse('unreadable', code === 'ENOENT' ? 'it is no longer there' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message)
  }
  lap('hashMs')
  opts.signal?.throwIfAborted()

  let info: Omit<PhotoInfo, 'thumbnail'>
  let reduced: Buffer
  const t = opts.thumbnail
  try {
    const image = await openImage(path)
    const meta = await image.metadata()
    lap('probeMs')
    const orientation = meta.orientation ?? 1
    const swap = orientation >= 5 && orientation <= 8
    const width = meta.autoOrient?.width ?? (swap ? meta.height : meta.width)
    const height = meta.autoOrient?.height ?? (swap ? meta.width : meta.height)
    if (!width || !height) return refuse('unreadable', 'it has no size')
    if (width * height > maxImagePixels) return refuse('too-large', declaredPixels(width, height))
    const depth = meta.depth === 'ushort' ? 16 : meta.depth === 'uchar' || meta.depth === undefined ? 8 : null
    if (depth === null) return refuse('unsupported', `its pixels are ${meta.depth}, not 8- or 16-bit`)
    info = { path, size, hash, format, width, height, orientation, bitDepth: depth, channels: meta.channels ?? 3, hasAlpha: meta.hasAlpha ?? false }
    const long = t?.size ?? (t ? 256 : 64)
    // Decoding to a small size reads every byte of the file, so truncated files fail here.
    const small = image.clone().rotate().resize({ width: long, height: long, fit: 'inside', withoutEnlargement: true })
    reduced = !t ? await small.raw().toBuffer()
      : (t.format ?? 'webp') === 'webp' ? await small.webp({ quality: t.quality ?? 80 }).toBuffer()
      : await small.flatten({ background: '#ffffff' }).jpeg({ quality: t.quality ?? 80 }).toBuffer()
    lap('decodeMs')
  } catch (err) {
    const problem = await describeDecodeFailure(path, err)
    return refuse(problem.kind, problem.detail)
  }
  if (!t) return { ok: true, photo: info }
  const thumbnail = t.path(hash)
  await writeAtomic(thumbnail, reduced)
  lap('writeMs')
  return { ok: true, photo: { ...info, thumbnail } }
}

export interface InspectManyOptions extends InspectOptions {
  /** Photos worked on at once (default 4: sharp decodes on its own threads). */
  concurrency?: number
  onProgress?: (done: number, total: number, message?: string) => void
  /** Called as each photo finishes, in completion order, so the caller can record it at once. */
  onResult?: (result: InspectResult, index: number) => void | Promise<void>
}

/** inspectPhoto over many files, bounded concurrency; results in input order. Files that scanPhotos already refused are passed through. */
export async function inspectPhotos(files: Array<string | ScannedFile>, opts: InspectManyOptions = {}): Promise<InspectResult[]> {
  const results: InspectResult[] = new Array(files.length)
  let done = 0
  await forEachBounded(files, opts.concurrency ?? 4, opts.signal, async (file, i) => {
    const result: InspectResult = typeof file !== 'string' && file.problem
      ? { ok: false, path: file.path, size: file.size, problem: file.problem }
      : await inspectPhoto(typeof file === 'string' ? file : file.path, opts)
    results[i] = result
    await opts.onResult?.(result, i)
    opts.onProgress?.(++done, files.length, basename(result.ok ? result.photo.path : result.path))
  })
  return results
}

export interface DuplicateGroup {
  hash: string
  /** Two or more paths with identical content, in the order given. */
  paths: string[]
}

/** Photos with the same content hash (the same photo imported twice, perhaps under other names). */
export function findDuplicates(photos: Array<{ path: string; hash: string }>): DuplicateGroup[] {
  const byHash = new Map<string, string[]>()
  for (const p of photos) byHash.set(p.hash, [...(byHash.get(p.hash) ?? []), p.path])
  return [...byHash].filter(([, paths]) => paths.length > 1).map(([hash, paths]) => ({ hash, paths }))
}

function problemFor(kind: PhotoProblemKind, path: string, detail?: string): PhotoProblem {
  return { kind, message: imageProblemMessage(kind, path, detail) }
}
