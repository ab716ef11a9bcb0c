// Sharded prediction for a cluster's own scheduler (Slurm job arrays, Kubernetes Indexed Jobs): every task takes
// the same sorted list of photos and predicts its K-th of N equal, contiguous parts; each writes its masks, its CSV
// and a manifest (shard.json) into its own folder; merging joins the manifests and reports missing shards, photos
// that failed or were never predicted, and photos predicted twice.
import { readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { LeafTraits, MeasurementRow, ShardMerge } from '../../../shared/api/prediction'
import { writeAtomic } from '../store/atomic'
import { scanPhotos, type ScannedFile } from '../datasets/photos'
import { leavesCsvPath, writeLeavesCsv, writeMeasurementsCsv } from './csv'

export const SHARD_MANIFEST = 'shard.json'

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
  if (!(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count))
    throw new ApiError('invalid_argument', `A shard is K/N with 1 ≤ K ≤ N (got ${shard.index}/${shard.count}).`)
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
 */
export async function shardPhotos(source: { images: string } | { list: string }, shard: Shard | undefined): Promise<ScannedFile[]> {
  if ('images' in source) {
    const all = (await scanPhotos([source.images])).files.sort((a, b) => byCodePoint(a.path, b.path))
    return shard ? shardPart(all, shard) : all
  }
  const listed = [...new Set(await readPhotoList(source.list))].sort(byCodePoint)
  const mine = shard ? shardPart(listed, shard) : listed
  const files: ScannedFile[] = []
  for (const path of mine) {
    try {
      files.push(...(await scanPhotos([path])).files)
    } catch (err) {
      files.push({ path, size: 0, format: null, problem: { kind: 'unreadable', message: (err as Error).message } })
    }
  }
  return files
}

export async function writeShardManifest(dir: string, manifest: Omit<ShardManifest, 'format' | 'version' | 'finishedAt'>): Promise<void> {
  const full: ShardManifest = { format: 'leafseg-shard', version: 1, ...manifest, finishedAt: new Date().toISOString() }
  await writeAtomic(join(dir, SHARD_MANIFEST), JSON.stringify(full, null, 1))
}

async function readManifest(dir: string): Promise<ShardManifest> {
  const file = join(dir, SHARD_MANIFEST)
  let parsed: ShardManifest
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as ShardManifest
  } catch (err) {
    const missing = await stat(file).then(
      () => false,
      () => true
    )
    throw new ApiError('bad_input', missing ? `${dir} holds no ${SHARD_MANIFEST}: it is not the output of a finished shard (leafseg predict --shard).` : `${file} is not readable: ${(err as Error).message}`)
  }
  if (parsed.format !== 'leafseg-shard' || parsed.version !== 1) throw new ApiError('bad_input', `${file} is not a Leafseg shard manifest (version 1).`)
  return parsed
}

/** Join shards' results into one CSV (rows in path order, as one unsharded run writes them) and say what is amiss. */
export async function mergeShards(dirs: string[], csv: string): Promise<ShardMerge> {
  if (dirs.length === 0) throw new ApiError('invalid_argument', 'Give the shards’ output folders to merge.')
  const manifests = await Promise.all(dirs.map(async (dir) => ({ dir, manifest: await readManifest(dir) })))
  const first = manifests[0].manifest
  for (const { dir, manifest } of manifests) {
    if (manifest.shard.count !== first.shard.count) throw new ApiError('bad_input', `${dir} is shard ${manifest.shard.index}/${manifest.shard.count}, but ${manifests[0].dir} is one of ${first.shard.count}: these are not parts of one run.`)
    if (manifest.model !== first.model || manifest.threshold !== first.threshold)
      throw new ApiError('bad_input', `${dir} was predicted with ${manifest.model} at threshold ${manifest.threshold}, ${manifests[0].dir} with ${first.model} at ${first.threshold}: these are not parts of one run.`)
  }
  const seenShards = new Map<number, string>()
  const duplicateShards: number[] = []
  for (const { dir, manifest } of manifests) {
    if (seenShards.has(manifest.shard.index)) duplicateShards.push(manifest.shard.index)
    else seenShards.set(manifest.shard.index, dir)
  }
  const missingShards = Array.from({ length: first.shard.count }, (_, i) => i + 1).filter((k) => !seenShards.has(k))
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
  await writeMeasurementsCsv(csv, ordered.map((p) => p.row))
  await writeLeavesCsv(
    leavesCsvPath(csv),
    ordered.map((p) => ({ photo: p.row.photo, leaves: p.leaves, scalePxPerMm: p.row.scalePxPerMm })),
    ordered.length > 0 && ordered.every((p) => p.row.leavesSeparated)
  )
  return { csv, rows: ordered.length, shards: seenShards.size, of: first.shard.count, missingShards, duplicateShards, duplicatePhotos: [...duplicatePhotos].sort(byCodePoint), missingPhotos }
}
