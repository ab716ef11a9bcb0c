// Labelbox exports -> one mask per data row: its leaves (one per mask object or polygon) and their union.
//
//   const exp = parseLabelboxExport(text, file)                    // NDJSON (current) or legacy JSON
//   const report = await downloadLabelboxMasks(exp.rows, { apiKey, cacheDir, signal, onProgress })
//   const { pairs } = matchLabelboxRows(exp.rows, photoPaths)
//   for (const { row, photo } of pairs) mask = await labelboxRowMask(row, cacheDir)   // union of masks and polygons
//
// Downloads are resumable: each mask lands atomically in cacheDir under a name derived from its URL,
// and a rerun skips the files already there. The API key is sent only to Labelbox hosts (a crafted export
// must not be able to collect it), never logged, never put in an error message.
import { createHash } from 'node:crypto'
import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { displayedSize, openImage, sniffImageFormat, type Raster } from '../imaging/raster'
import { DatasetError } from './errors'
import { maskFromIds, normaliseMask, type NormalisedMask } from './masks'
import { checkLeafCount } from './instances'
import { makePhotoLookup } from './match'
import { rleFromPolygon } from './coco'
import { decodeRle } from '../../../shared/rle'
import { forEachBounded } from './util'
import { writeAtomic } from '../store/atomic'
import { maxEntries, maxPolygonCoordinates, readAnnotationText, tooLargeImage } from './limits'
import { formatBytes } from '../../../shared/format'

export interface LabelboxObject {
  /** The object's label name (e.g. "leaf"), when the export gives one. */
  name?: string
  url: string
  /** Composite masks: the object is the pixels of exactly this colour. Absent: a mask of its own (non-black = object). */
  colorRgb?: [number, number, number]
}

export interface LabelboxRow {
  /** Where in the export: line number (NDJSON) or row number (legacy JSON), 1-based. */
  position: number
  dataRowId?: string
  globalKey?: string
  externalId?: string
  /** The image's URL or name as Labelbox holds it. */
  rowData?: string
  width?: number
  height?: number
  objects: LabelboxObject[]
  /** Polygon objects as [x0, y0, x1, y1, …] in pixels; rasterised like COCO polygons (pycocotools' rule). */
  polygons: number[][]
  /** Annotations that are neither masks nor polygons (boxes, points, classifications): not used. */
  otherAnnotations: number
}

export interface LabelboxExport {
  format: 'ndjson' | 'legacy-json'
  rows: LabelboxRow[]
}

/** Parse either export format. Errors name the file and the line (NDJSON) or row (legacy JSON). */
export function parseLabelboxExport(text: string, file: string): LabelboxExport {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  if (trimmed === '') throw new DatasetError('corrupt-export', file, `The Labelbox export ${file} is empty`)
  return trimmed.startsWith('[') ? parseLegacy(trimmed, file) : parseNdjson(text, file)
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

function parseNdjson(text: string, file: string): LabelboxExport {
  const rows: LabelboxRow[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  if (lines.length > maxEntries + 1)
    throw new DatasetError(
      'corrupt-export',
      file,
      `The Labelbox export ${file} has ${lines.length} lines; Leafseg reads at most ${maxEntries} rows per file. Split it into smaller files`
    )
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    const bad = (what: string): DatasetError => new DatasetError('corrupt-export', file, `The Labelbox export ${file}, line ${i + 1}: ${what}`)
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (err) {
      throw bad(`is not valid JSON (${(err as Error).message}); the file may be cut short or edited`)
    }
    if (!isObject(json) || !isObject(json.data_row)) throw bad('has no "data_row"; is this a Labelbox NDJSON export?')
    const dr = json.data_row
    const media = isObject(json.media_attributes) ? json.media_attributes : {}
    const size = imageSize(media.width, media.height)
    if (typeof size === 'string') throw bad(size)
    const row: LabelboxRow = {
      position: i + 1,
      dataRowId: str(dr.id),
      globalKey: str(dr.global_key),
      externalId: str(dr.external_id),
      rowData: str(dr.row_data),
      ...size,
      objects: [],
      polygons: [],
      otherAnnotations: 0
    }
    const projects = json.projects
    if (projects !== undefined && !isObject(projects)) throw bad('"projects" is not an object')
    for (const project of Object.values(projects ?? {})) {
      const labels = isObject(project) ? project.labels : undefined
      if (labels === undefined) continue
      if (!Array.isArray(labels)) throw bad('a project\'s "labels" is not a list')
      for (const label of labels) {
        const annotations = isObject(label) ? label.annotations : undefined
        const objects = isObject(annotations) ? annotations.objects : undefined
        if (objects === undefined) continue
        if (!Array.isArray(objects)) throw bad('"annotations.objects" is not a list')
        if (objects.length > maxEntries) throw bad(`has ${objects.length} annotation objects; at most ${maxEntries} are read`)
        for (const o of objects) {
          if (!isObject(o)) throw bad('an annotation object is not an object')
          if (o.annotation_kind === 'ImagePolygon') {
            const points = polygonPoints(o.polygon)
            if (!points) throw bad(`a polygon is not a list of at most ${maxPolygonCoordinates / 2} {x, y} points with finite numbers`)
            row.polygons.push(points)
            continue
          }
          if (o.annotation_kind !== 'ImageSegmentationMask') {
            row.otherAnnotations++
            continue
          }
          const name = str(o.name) ?? str(o.value)
          if (isObject(o.composite_mask)) {
            const { url, color_rgb: rgb } = o.composite_mask
            if (!str(url) || !Array.isArray(rgb) || rgb.length !== 3 || !rgb.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
              throw bad('a composite_mask lacks its url or a [r, g, b] colour')
            }
            row.objects.push({ name, url: url as string, colorRgb: rgb as [number, number, number] })
          } else if (isObject(o.mask) && str(o.mask.url)) {
            row.objects.push({ name, url: o.mask.url as string })
          } else {
            throw bad('a segmentation mask has neither composite_mask nor mask with a url')
          }
        }
      }
    }
    rows.push(row)
  })
  return { format: 'ndjson', rows }
}

function parseLegacy(text: string, file: string): LabelboxExport {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new DatasetError(
      'corrupt-export',
      file,
      `The Labelbox export ${file} is not valid JSON (${(err as Error).message}); the file may be cut short or edited`
    )
  }
  if (!Array.isArray(json)) throw new DatasetError('corrupt-export', file, `The Labelbox export ${file} is not a list of rows; is this a Labelbox JSON export?`)
  if (json.length > maxEntries)
    throw new DatasetError(
      'corrupt-export',
      file,
      `The Labelbox export ${file} has ${json.length} rows; Leafseg reads at most ${maxEntries} per file. Split it into smaller files`
    )
  const rows = (json as unknown[]).map((raw, i): LabelboxRow => {
    const bad = (what: string): DatasetError => new DatasetError('corrupt-export', file, `The Labelbox export ${file}, row ${i + 1}: ${what}`)
    if (!isObject(raw)) throw bad('is not an object')
    const row: LabelboxRow = {
      position: i + 1,
      dataRowId: str(raw['DataRow ID']),
      globalKey: str(raw['Global Key']),
      externalId: str(raw['External ID']),
      rowData: str(raw['Labeled Data']),
      objects: [],
      polygons: [],
      otherAnnotations: 0
    }
    if (!row.externalId && !row.rowData && !row.dataRowId) throw bad('has no "External ID", "Labeled Data" or "DataRow ID"; is this a Labelbox JSON export?')
    const label = raw.Label
    if (!isObject(label)) return row // "Skip" or missing: nothing labelled
    const objects = label.objects ?? []
    if (!Array.isArray(objects)) throw bad('"Label.objects" is not a list')
    if (objects.length > maxEntries) throw bad(`has ${objects.length} objects; at most ${maxEntries} are read`)
    for (const o of objects) {
      if (isObject(o) && str(o.instanceURI)) row.objects.push({ name: str(o.title) ?? str(o.value), url: o.instanceURI as string })
      else if (isObject(o) && o.polygon !== undefined) {
        const points = polygonPoints(o.polygon)
        if (!points) throw bad(`a polygon is not a list of at most ${maxPolygonCoordinates / 2} {x, y} points with finite numbers`)
        row.polygons.push(points)
      } else row.otherAnnotations++
    }
    return row
  })
  return { format: 'legacy-json', rows }
}

/** The image size an export row gives, checked; a string says what is wrong with it. */
function imageSize(width: unknown, height: unknown): { width?: number; height?: number } | string {
  if (width === undefined && height === undefined) return {}
  const whole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0
  if (!whole(width) || !whole(height)) return '"media_attributes" gives a width and height that are not whole numbers of pixels'
  const huge = tooLargeImage(width, height)
  return huge ? `"media_attributes" gives an image size that cannot be right: ${huge}` : { width, height }
}

function polygonPoints(value: unknown): number[] | null {
  if (!Array.isArray(value) || value.length * 2 > maxPolygonCoordinates) return null
  const out: number[] = []
  for (const p of value) {
    if (!isObject(p) || typeof p.x !== 'number' || typeof p.y !== 'number' || !Number.isFinite(p.x) || !Number.isFinite(p.y)) return null
    out.push(p.x, p.y)
  }
  return out
}

// ---- downloading ----------------------------------------------------------------------------

export interface DownloadOptions {
  apiKey: string
  /** Folder for downloaded masks; created if missing. Reuse it to resume. */
  cacheDir: string
  /** Downloads at once (default 4). */
  concurrency?: number
  signal?: AbortSignal
  onProgress?: (done: number, total: number, message?: string) => void
  /** Hosts that receive the API key (default Labelbox's: labelbox.com and its subdomains). */
  keyHosts?: string[]
  /** Tries per mask for server errors and network failures (default 5). */
  maxAttempts?: number
  /** First retry delay, doubled each time (default 1000 ms). */
  retryDelayMs?: number
  /** Longest wait a 429 Retry-After is honoured for, and how many 429s per mask are waited out (default 120 s, 10). */
  maxRetryAfterMs?: number
  max429?: number
  /** Longest time one request may take before it counts as failed and is retried (default 30 s). */
  requestTimeoutMs?: number
  /** Longest time one mask may take, all tries and waits together (default 60 s): a link that never answers fails then. */
  deadlineMs?: number
  /** Most bytes read for one mask whatever its image's size (default maxMaskBytes). */
  maxMaskBytes?: number
}

/** The most bytes read for one mask: an annotation file's limit. A link that sends more is cut off. */
export const maxMaskBytes = 250_000_000

/**
 * The most bytes a mask of `width`×`height` pixels can take: an uncompressed 16-bit RGBA PNG (8 bytes a
 * pixel) with a megabyte for its chunks; without a declared size, the ceiling.
 */
export function maskByteLimit(size: { width?: number; height?: number }, ceiling = maxMaskBytes): number {
  return size.width && size.height ? Math.min(ceiling, size.width * size.height * 8 + (1 << 20)) : ceiling
}

export interface DownloadFailure {
  /** The mask URL without its query string (signed URLs carry tokens there). */
  url: string
  /** Positions (LabelboxRow.position) of the rows that need this mask. */
  rows: number[]
  message: string
}

export interface DownloadReport {
  downloaded: number
  /** Already in the cache from an earlier (perhaps cancelled) run. */
  cached: number
  failed: DownloadFailure[]
}

/** Where a mask URL is cached. */
export function maskCachePath(cacheDir: string, url: string): string {
  return join(cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.png`)
}

/**
 * Download every mask the rows need (each URL once), bounded and resumable. A wrong API key (401) stops
 * everything with a DatasetError('auth'); a mask that cannot be had is listed in `failed` and the rest go on.
 */
export async function downloadLabelboxMasks(rows: LabelboxRow[], opts: DownloadOptions): Promise<DownloadReport> {
  const needed = new Map<string, number[]>()
  // A mask can be no larger than its image allows: the largest its rows declare.
  const limits = new Map<string, number>()
  for (const r of rows) {
    for (const o of r.objects) {
      needed.set(o.url, [...(needed.get(o.url) ?? []), r.position])
      limits.set(o.url, Math.max(limits.get(o.url) ?? 0, maskByteLimit(r, opts.maxMaskBytes)))
    }
  }
  await mkdir(opts.cacheDir, { recursive: true })
  const urls = [...needed.keys()]
  const report: DownloadReport = { downloaded: 0, cached: 0, failed: [] }
  const stop = new AbortController()
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal
  let authError: DatasetError | null = null
  let done = 0
  await forEachBounded(urls, opts.concurrency ?? 4, signal, async (url) => {
    const path = maskCachePath(opts.cacheDir, url)
    if (await exists(path)) report.cached++
    else {
      let body: Uint8Array
      try {
        body = await fetchMask(url, opts, signal, limits.get(url)!)
      } catch (err) {
        if (signal.aborted || !(err instanceof DatasetError)) throw err
        if (err.code === 'auth') {
          authError ??= err
          stop.abort()
          return
        }
        const rowsText = needed
          .get(url)!
          .map((p) => `#${p}`)
          .join(', ')
        report.failed.push({ url: withoutQuery(url), rows: needed.get(url)!, message: `Mask for export row ${rowsText}: ${err.message}` })
        opts.onProgress?.(++done, urls.length)
        return
      }
      // A failure to write (full disk) stops the download: every other mask would fail the same way.
      await writeAtomic(path, body)
      report.downloaded++
    }
    opts.onProgress?.(++done, urls.length)
  }).catch((err) => {
    if (!authError) throw err
  })
  if (authError) throw authError
  return report
}

class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | null
  ) {
    super(`the server answered HTTP ${status}`)
  }
}

/** The response's body, stopped (and the connection dropped) as soon as it passes `limit` bytes. */
async function boundedBody(res: Response, url: string, limit: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw new DatasetError(
        'download',
        withoutQuery(url),
        `the server sent more than ${formatBytes(limit)} for one mask, more than its image can need; the download was stopped. Is the link right?`
      )
    }
    chunks.push(value)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

async function fetchMask(url: string, opts: DownloadOptions, signal: AbortSignal, limit: number): Promise<Uint8Array> {
  const maxAttempts = opts.maxAttempts ?? 5
  const baseDelay = opts.retryDelayMs ?? 1000
  const maxRetryAfter = opts.maxRetryAfterMs ?? 120_000
  const max429 = opts.max429 ?? 10
  const timeoutMs = opts.requestTimeoutMs ?? 30_000
  const deadlineMs = opts.deadlineMs ?? 60_000
  const deadline = Date.now() + deadlineMs
  const hung = (): DatasetError =>
    new DatasetError(
      'download',
      withoutQuery(url),
      `${withoutQuery(url)} did not deliver the mask within ${Math.round(deadlineMs / 100) / 10} s (${failures + throttled + 1} tries); the server may be down or the network blocked. Try again later (what was downloaded is kept)`
    )
  let failures = 0
  let throttled = 0
  if (!URL.canParse(url) || !/^https?:/i.test(url))
    throw new DatasetError('download', withoutQuery(url), `the mask link "${withoutQuery(url)}" is not a web address; is the export complete?`)
  const headers: Record<string, string> = sendsKey(url, opts.keyHosts) ? { Authorization: `Bearer ${opts.apiKey}` } : {}
  for (;;) {
    signal.throwIfAborted()
    let wait: number
    const left = deadline - Date.now()
    if (left <= 0) throw hung()
    try {
      // A stalled connection counts as a network failure (retried), not a hang; the deadline bounds all tries together.
      const res = await fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(Math.min(timeoutMs, left))]), redirect: 'follow' })
      if (res.ok) {
        if (Number(res.headers.get('content-length') ?? 0) > limit) {
          await res.body?.cancel().catch(() => {})
          throw new DatasetError(
            'download',
            withoutQuery(url),
            `the server offers ${formatBytes(Number(res.headers.get('content-length')))} for one mask, more than its image can need (${formatBytes(limit)}); it was not downloaded. Is the link right?`
          )
        }
        const body = await boundedBody(res, url, limit)
        if (!sniffImageFormat(body.subarray(0, 32)))
          throw new DatasetError('download', withoutQuery(url), 'the server sent something that is not an image (perhaps an error page)')
        return body
      }
      await res.body?.cancel().catch(() => {})
      throw new HttpStatus(res.status, parseRetryAfter(res.headers.get('retry-after')))
    } catch (err) {
      if (signal.aborted) throw signal.reason
      if (err instanceof HttpStatus) {
        const s = err.status
        if (s === 401) {
          throw new DatasetError(
            'auth',
            withoutQuery(url),
            'Labelbox refused the API key (HTTP 401): check the key (Labelbox → Workspace settings → API keys) and that it belongs to the workspace of this export'
          )
        }
        if (s === 403 || s === 404 || s === 410) {
          throw new DatasetError(
            'expired',
            withoutQuery(url),
            `the mask link no longer works (HTTP ${s}). Mask links in Labelbox exports expire: export again from Labelbox and import the new file${s === 403 ? ', or check that the API key may read this project' : ''}`
          )
        }
        if (s === 429) {
          if (++throttled > max429)
            throw new DatasetError('download', withoutQuery(url), `Labelbox kept asking to slow down (HTTP 429 ${max429} times); try again later`)
          wait = Math.min(err.retryAfterMs ?? baseDelay * 2 ** Math.min(throttled, 6), maxRetryAfter)
        } else if (s >= 500) {
          if (++failures >= maxAttempts)
            throw new DatasetError(
              'download',
              withoutQuery(url),
              `the server failed ${maxAttempts} times (last: HTTP ${s}); try again later (what was downloaded is kept)`
            )
          wait = baseDelay * 2 ** (failures - 1)
        } else {
          throw new DatasetError('download', withoutQuery(url), `the server refused the download (HTTP ${s})`)
        }
      } else if (err instanceof DatasetError) {
        throw err
      } else {
        if (Date.now() >= deadline) throw hung()
        // Network failure (connection reset, DNS, timeout): retry.
        if (++failures >= maxAttempts)
          throw new DatasetError(
            'download',
            withoutQuery(url),
            `the download failed ${maxAttempts} times (${(err as Error).message}); check the network and try again (what was downloaded is kept)`
          )
        wait = baseDelay * 2 ** (failures - 1)
      }
    }
    if (Date.now() + wait >= deadline) throw hung()
    await sleep(wait, signal)
  }
}

function sendsKey(url: string, keyHosts = ['labelbox.com']): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  const host = u.hostname.toLowerCase()
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) return false
  return keyHosts.some((h) => host === h.toLowerCase() || host.endsWith(`.${h.toLowerCase()}`))
}

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

function withoutQuery(url: string): string {
  return url.split(/[?#]/)[0]
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

// ---- combining and matching ---------------------------------------------------------------

/**
 * A row's leaves: each mask object and each polygon is one leaf (numbered in the export's order, masks first;
 * where two overlap the later one has the pixel), masks read from the cache; the binary mask is their union.
 * Null when the row has neither (skipped or not labelled). Throws DatasetError naming the row when a mask is missing from
 * the cache or its size differs from the image's. `size` is the photo's size as displayed: a mask of another
 * size is refused, and polygon-only legacy rows (whose export gives no image size) need it.
 */
export async function labelboxRowInstances(
  row: LabelboxRow,
  cacheDir: string,
  file = 'Labelbox export',
  size?: { width: number; height: number }
): Promise<NormalisedMask | null> {
  if (row.objects.length === 0 && row.polygons.length === 0) return null
  const name = row.globalKey ?? row.externalId ?? row.dataRowId ?? `row ${row.position}`
  checkLeafCount(row.objects.length + row.polygons.filter((p) => p.length >= 6).length, `The ${file} (${name}, #${row.position})`)
  let out: { width: number; height: number; ids: Uint16Array } | null = null
  let leaf = 0
  for (const o of row.objects) {
    const path = maskCachePath(cacheDir, o.url)
    if (!(await exists(path)))
      throw new DatasetError('download', file, `The mask of ${name} (${file}, #${row.position}) has not been downloaded; download the masks again`)
    // The size in the file's header is checked before decoding, so a small file declaring a huge image costs nothing.
    const declared = await displayedSize(path)
    const want = row.width !== undefined && row.height !== undefined ? { width: row.width, height: row.height } : (out ?? size)
    if (declared && want && (declared.width !== want.width || declared.height !== want.height)) {
      throw new DatasetError(
        'mask-size',
        file,
        `The mask of ${name} (${file}, #${row.position}) is ${declared.width}×${declared.height} pixels but its image is ${want.width}×${want.height}`
      )
    }
    const huge = declared && tooLargeImage(declared.width, declared.height)
    if (huge) throw new DatasetError('mask-size', file, `The mask of ${name} (${file}, #${row.position}) cannot be used: ${huge}`)
    let width: number
    let height: number
    let inside: (i: number) => boolean
    if (o.colorRgb) {
      const { data, info } = await (await openImage(path)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
      const [r, g, b] = o.colorRgb
      width = info.width
      height = info.height
      const c = info.channels
      inside = (i) => data[i * c] === r && data[i * c + 1] === g && data[i * c + 2] === b
    } else {
      const mask = await normaliseMask(path)
      width = mask.width
      height = mask.height
      inside = (i) => mask.binary.data[i] !== 0
    }
    const w: number = row.width ?? out?.width ?? width
    const h: number = row.height ?? out?.height ?? height
    if (width !== w || height !== h) {
      throw new DatasetError('mask-size', file, `The mask of ${name} (${file}, #${row.position}) is ${width}×${height} pixels but its image is ${w}×${h}`)
    }
    out ??= { width, height, ids: new Uint16Array(width * height) }
    leaf++
    for (let i = 0; i < width * height; i++) if (inside(i)) out.ids[i] = leaf
  }
  if (row.polygons.length > 0) {
    const width = out?.width ?? row.width ?? size?.width
    const height = out?.height ?? row.height ?? size?.height
    if (!width || !height)
      throw new DatasetError(
        'corrupt-export',
        file,
        `The ${file} does not give the size of ${name} (#${row.position}), which its polygons need; match it to its photo first`
      )
    out ??= { width, height, ids: new Uint16Array(width * height) }
    for (const polygon of row.polygons) {
      if (polygon.length < 6) continue
      let pixels: Uint8Array
      try {
        pixels = decodeRle({ size: [height, width], counts: rleFromPolygon(polygon, height, width) })
      } catch (err) {
        throw new DatasetError(
          'corrupt-export',
          file,
          `The ${file} has a polygon for ${name} (#${row.position}) that cannot be drawn: ${(err as Error).message}`
        )
      }
      leaf++
      for (let i = 0; i < pixels.length; i++) if (pixels[i]) out.ids[i] = leaf
    }
  }
  if (out && size && (out.width !== size.width || out.height !== size.height)) {
    throw new DatasetError(
      'mask-size',
      file,
      `The mask of ${name} (${file}, #${row.position}) is ${out.width}×${out.height} pixels but its photo is ${size.width}×${size.height} (as displayed); a mask must have exactly the photo's size`
    )
  }
  return out && maskFromIds(out.ids, out.width, out.height, 'instance-ids', file, 'by-value')
}

/** A row's binary leaf mask (0/255, one channel): the union of its masks and polygons (see labelboxRowInstances). */
export async function labelboxRowMask(
  row: LabelboxRow,
  cacheDir: string,
  file = 'Labelbox export',
  size?: { width: number; height: number }
): Promise<Raster | null> {
  return (await labelboxRowInstances(row, cacheDir, file, size))?.binary ?? null
}

export interface LabelboxMatch {
  row: LabelboxRow
  photo: string
  by: 'global-key' | 'external-id' | 'file-name'
}

/** Pair export rows with photos by global key, then external id, then the file name in row_data. */
export function matchLabelboxRows(
  rows: LabelboxRow[],
  photos: string[]
): { pairs: LabelboxMatch[]; unmatchedRows: Array<{ row: LabelboxRow; reason: string }>; unmatchedPhotos: string[] } {
  const lookup = makePhotoLookup(photos)
  const pairs: LabelboxMatch[] = []
  const unmatchedRows: Array<{ row: LabelboxRow; reason: string }> = []
  const taken = new Set<string>()
  for (const row of rows) {
    const tries: Array<[string | undefined, LabelboxMatch['by']]> = [
      [row.globalKey, 'global-key'],
      [row.externalId, 'external-id'],
      [row.rowData, 'file-name']
    ]
    let reason = 'no photo has its global key, external id or file name'
    let matched = false
    for (const [key, by] of tries) {
      if (!key) continue
      const found = lookup(key)
      if (!found) continue
      if ('ambiguous' in found) {
        reason = `several photos are named ${key}: ${found.ambiguous.join(', ')}`
        continue
      }
      if (taken.has(found.photo)) {
        reason = `its photo ${found.photo} already matched an earlier row`
        break
      }
      taken.add(found.photo)
      pairs.push({ row, photo: found.photo, by })
      matched = true
      break
    }
    if (!matched) unmatchedRows.push({ row, reason })
  }
  return { pairs, unmatchedRows, unmatchedPhotos: photos.filter((p) => !taken.has(p)) }
}

/** Read and parse an export file. */
export async function readLabelboxExport(file: string): Promise<LabelboxExport> {
  return parseLabelboxExport(await readAnnotationText(file, 'Labelbox export'), file)
}
