// Sharded prediction for a cluster's own scheduler (Slurm job arrays, Kubernetes Indexed Jobs): every task takes
// the same sorted list of photos and predicts its K-th of N equal, contiguous parts; each writes its masks, its CSV
// and a manifest (shard.json) into its own folder; merging joins the manifests and reports missing shards, photos
// that failed or were never predicted, and photos predicted twice.
import { readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, parse, relative, resolve } from 'node:path'
import { z } from 'zod'
import { ApiError, errorMessage } from '../../../shared/errors'
import type { LeafTraits, MeasurementRow, ShardMerge } from '../../../shared/api/prediction'
import { writeAtomic } from '../store/atomic'
import { scanPhotos, type ScannedFile } from '../datasets/photos'
import { stemOf } from '../datasets/util'
import { leavesCsvPath, writeLeavesCsv, writeMeasurementsCsv } from './csv'
import { maxAnnotationFileBytes, maxEntries } from '../datasets/limits'
import { formatBytes } from '../../../shared/format'

export const SHARD_MANIFEST = 'shard.json'
/** Most parts a run may be split into (Slurm's MaxArraySize defaults to 1001; Kubernetes allows 100,000 completions). */
export const maxShardCount = 100_000

export interface Shard {
  /** 1..count */
  index: number
  count: number
}

/** What a shard did, written beside its masks; `merge` reads these. */
export interface ShardManifest {
  format: 'leafseg-shard'
  version: 1
  shard: Shard
  model: string
  threshold: number
  /** Every photo of this shard, in order. */
  photos: string[]
  predicted: { path: string; row: MeasurementRow; leaves: LeafTraits[] }[]
  problems: { path: string; reason: string }[]
  engine: string
  finishedAt: string
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The shard's part of `items` (already sorted): contiguous, sizes differing by at most one, every item in one part. */
export function shardPart<T>(items: readonly T[], shard: Shard): T[] {
  const { index, count } = shard
  if (!(Number.isInteger(count) && count >= 1 && count <= maxShardCount && Number.isInteger(index) && index >= 1 && index <= count))
    throw new ApiError('invalid_argument', `A shard is K/N with 1 ≤ K ≤ N ≤ ${maxShardCount} (got ${shard.index}/${shard.count}).`)
  const start = Math.floor(((shard.index - 1) * items.length) / shard.count)
  const end = Math.floor((shard.index * items.length) / shard.count)
  return items.slice(start, end)
}

/** Paths from a list file: one per line, relative ones from the list's folder; blank lines and # comments skipped. */
export async function readPhotoList(file: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ApiError('bad_input', `Cannot read the photo list ${file}: ${(err as Error).message}`)
  }
  const paths = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => resolve(dirname(file), line))
  if (paths.length === 0) throw new ApiError('bad_input', `The photo list ${file} names no photos.`)
  return paths
}

/**
 * The photos to predict, sorted by path, and of them the shard's part (all without a shard). A folder is walked
 * whole (every task sees the same list); a list file's photos are looked at only when they fall in this shard.
 * `all` is every path of the batch, whichever shard: what the masks' names are chosen from (maskNames).
 */
export async function shardPhotos(source: { images: string } | { list: string }, shard: Shard | undefined): Promise<{ all: string[]; files: ScannedFile[] }> {
  if ('images' in source) {
    const all = (await scanPhotos([source.images])).files.sort((a, b) => byCodePoint(a.path, b.path))
    return { all: all.map((f) => f.path), files: shard ? shardPart(all, shard) : all }
  }
  const listed = [...new Set(await readPhotoList(source.list))].sort(byCodePoint)
  const mine = shard ? shardPart(listed, shard) : listed
  const files: ScannedFile[] = []
  for (const path of mine) {
    try {
      const found = (await scanPhotos([path])).files
      // A listed file that is no image is a problem to report, not a line to drop.
      files.push(
        ...(found.length > 0
          ? found
          : [
              {
                path,
                size: 0,
                format: null,
                problem: { kind: 'not-an-image' as const, message: `${path} is listed but is not an image Leafseg reads (JPEG, PNG, TIFF, BMP or WebP)` }
              }
            ])
      )
    } catch (err) {
      files.push({ path, size: 0, format: null, problem: { kind: 'unreadable', message: errorMessage(err) } })
    }
  }
  return { all: listed, files }
}

/**
 * Each photo's name in the outputs, relative to `out` (its mask is that name's folder + stem + .png) and in the
 * CSV: its path under `root` (the images folder, or the list's folder), sub-folders kept, so that day1/a.jpg and
 * day2/a.jpg keep apart; a listed photo outside `root` keeps its whole path. Photos of one folder that share a
 * stem (leaf.png and leaf.jpg) keep their extension in the mask's name (leaf.png.png, leaf.jpg.png): nothing is
 * written over, and a lab still finds each photo's mask by its name. Chosen from all of the batch's paths, so
 * every shard names a photo alike.
 */
export function maskNames(all: readonly string[], root: string): Map<string, { photo: string; mask: string }> {
  const named = all.map((path) => {
    const within = relative(root, path)
    const photo = within.startsWith('..') || isAbsolute(within) ? path.slice(parse(path).root.length) : within
    return { path, photo, mask: join(dirname(photo), `${stemOf(photo)}.png`) }
  })
  const uses = new Map<string, number>()
  for (const n of named) uses.set(n.mask, (uses.get(n.mask) ?? 0) + 1)
  return new Map(named.map((n) => [n.path, { photo: n.photo, mask: uses.get(n.mask)! > 1 ? `${n.photo}.png` : n.mask }]))
}

export async function writeShardManifest(dir: string, manifest: Omit<ShardManifest, 'format' | 'version' | 'finishedAt'>): Promise<void> {
  const full: ShardManifest = { format: 'leafseg-shard', version: 1, ...manifest, finishedAt: new Date().toISOString() }
  await writeAtomic(join(dir, SHARD_MANIFEST), JSON.stringify(full, null, 1))
}

// A manifest is read from a folder anyone could have written: every field is checked, and the work it can cause
// is bounded (the shard count, the lists' lengths, the file's size) before anything is allocated from it.
const text = z.string().max(100_000)
const figure = z.number().nullable()
const manifestSchema = z.object({
  format: z.literal('leafseg-shard'),
  version: z.literal(1),
  shard: z
    .object({ index: z.number().int().min(1), count: z.number().int().min(1).max(maxShardCount) })
    .refine((s) => s.index <= s.count, { message: 'the index is more than the count', path: ['index'] }),
  model: text,
  threshold: z.number(),
  photos: z.array(text).max(maxEntries),
  predicted: z
    .array(
      z.object({
        path: text,
        // The row's figures; traits (and the leaves' fields below) are written to the CSV as they are.
        row: z.looseObject({
          photo: text,
          width: z.number(),
          height: z.number(),
          areaPx: z.number(),
          areaMm2: figure,
          foregroundFraction: z.number(),
          leafCount: z.number(),
          leavesSeparated: z.boolean(),
          minLeafAreaPx: z.number(),
          noisePx: z.number(),
          scalePxPerMm: figure,
          source: z.enum(['predicted', 'labelled']),
          runId: text.nullable(),
          threshold: figure
        }),
        leaves: z.array(z.looseObject({ leaf: z.number() })).max(maxEntries)
      })
    )
    .max(maxEntries),
  problems: z.array(z.object({ path: text, reason: text })).max(maxEntries),
  engine: text,
  finishedAt: z.string().max(100)
})

async function readManifest(dir: string): Promise<ShardManifest> {
  const file = join(dir, SHARD_MANIFEST)
  const size = await stat(file).then(
    (s) => s.size,
    () => null
  )
  if (size === null) throw new ApiError('bad_input', `${dir} holds no ${SHARD_MANIFEST}: it is not the output of a finished shard (leafseg predict --shard).`)
  if (size > maxAnnotationFileBytes)
    throw new ApiError(
      'bad_input',
      `${file} is ${formatBytes(size)}; a shard manifest of up to ${formatBytes(maxAnnotationFileBytes)} is read. Split the run into more shards.`
    )
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ApiError('bad_input', `${file} is not readable: ${(err as Error).message}`)
  }
  const parsed = manifestSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || 'the file'}: ${i.message}`)
    throw new ApiError('bad_input', `${file} is not a Leafseg shard manifest (version 1): ${issues.join('; ')}${parsed.error.issues.length > 3 ? '; …' : ''}.`)
  }
  return parsed.data as unknown as ShardManifest
}

/** Join shards' results into one CSV (rows in path order, as one unsharded run writes them) and say what is amiss. */
export async function mergeShards(dirs: string[], csv: string): Promise<ShardMerge> {
  if (dirs.length === 0) throw new ApiError('invalid_argument', 'Give the shards’ output folders to merge.')
  const manifests = await Promise.all(dirs.map(async (dir) => ({ dir, manifest: await readManifest(dir) })))
  const first = manifests[0].manifest
  for (const { dir, manifest } of manifests) {
    if (manifest.shard.count !== first.shard.count)
      throw new ApiError(
        'bad_input',
        `${dir} is shard ${manifest.shard.index}/${manifest.shard.count}, but ${manifests[0].dir} is one of ${first.shard.count}: these are not parts of one run.`
      )
    if (manifest.model !== first.model || manifest.threshold !== first.threshold)
      throw new ApiError(
        'bad_input',
        `${dir} was predicted with ${manifest.model} at threshold ${manifest.threshold}, ${manifests[0].dir} with ${first.model} at ${first.threshold}: these are not parts of one run.`
      )
  }
  const seenShards = new Map<number, string>()
  const duplicateShards: number[] = []
  for (const { dir, manifest } of manifests) {
    if (seenShards.has(manifest.shard.index)) duplicateShards.push(manifest.shard.index)
    else seenShards.set(manifest.shard.index, dir)
  }
  const missingShards: number[] = []
  for (let k = 1; k <= first.shard.count; k++) if (!seenShards.has(k)) missingShards.push(k)
  const rows = new Map<string, ShardManifest['predicted'][number]>()
  const duplicatePhotos = new Set<string>()
  const problems = new Map<string, string>()
  const assigned = new Set<string>()
  for (const { manifest } of manifests) {
    for (const p of manifest.photos) assigned.add(p)
    for (const p of manifest.problems) problems.set(p.path, p.reason)
    for (const predicted of manifest.predicted) {
      if (rows.has(predicted.path)) duplicatePhotos.add(predicted.path)
      else rows.set(predicted.path, predicted)
    }
  }
  const missingPhotos = [...assigned]
    .filter((p) => !rows.has(p))
    .sort(byCodePoint)
    .map((path) => ({ path, reason: problems.get(path) ?? 'not predicted' }))
  const ordered = [...rows.keys()].sort(byCodePoint).map((p) => rows.get(p)!)
  await writeMeasurementsCsv(
    csv,
    ordered.map((p) => p.row)
  )
  await writeLeavesCsv(
    leavesCsvPath(csv),
    ordered.map((p) => ({ photo: p.row.photo, leaves: p.leaves, scalePxPerMm: p.row.scalePxPerMm })),
    ordered.length > 0 && ordered.every((p) => p.row.leavesSeparated)
  )
  return {
    csv,
    rows: ordered.length,
    shards: seenShards.size,
    of: first.shard.count,
    missingShards,
    duplicateShards,
    duplicatePhotos: [...duplicatePhotos].sort(byCodePoint),
    missingPhotos
  }
}
