// Datasets, photos and masks in SQLite: every query the datasets area needs, in one place.
import type { Db } from '../store/database'
import { ApiError } from '../../../shared/errors'
import type { DatasetSummary, ImportProblem, MaskMadeBy, MaskSource, PhotoDetail, PhotoFilter, PhotoSummary, Split } from '../../../shared/domain'
import { seededRandom } from '../../../shared/random'
import { stemOf } from './util'

interface PhotoRow {
  id: number
  dataset_id: number
  name: string
  file: string
  thumbnail: string
  hash: string
  bytes: number
  width: number
  height: number
  source_path: string | null
  split: Split | null
  imported_at: string
  mask_file: string | null
  instances_file: string | null
  leaves: number | null
  mask_source: MaskSource | null
  foreground: number | null
  model_made: number | null
  made_by: MaskMadeBy | null
  made_by_run: number | null
  probability_file: string | null
  mask_updated_at: string | null
  mask_hash: string | null
  mask_version: number | null
  trimap_file: string | null
  trimap_kernel: number | null
  trimap_fg: number | null
  trimap_bg: number | null
  trimap_mask_hash: string | null
  trimap_created_at: string | null
  matte_file: string | null
  cutout_file: string | null
  matte_kernel: number | null
  matte_fg: number | null
  matte_bg: number | null
  matte_mask_hash: string | null
  matte_created_at: string | null
}

const photoColumns = `p.*, m.file AS mask_file, m.instances_file, m.leaves, m.source AS mask_source, m.foreground, m.model_made, m.made_by, m.made_by_run, m.probability_file, m.updated_at AS mask_updated_at, m.hash AS mask_hash, m.version AS mask_version`

/** The detail query also joins the photo's trimap and alpha matte. */
const detailColumns = `${photoColumns},
  t.file AS trimap_file, t.kernel AS trimap_kernel, t.fg_iterations AS trimap_fg, t.bg_iterations AS trimap_bg, t.mask_hash AS trimap_mask_hash, t.created_at AS trimap_created_at,
  a.file AS matte_file, a.cutout_file, a.kernel AS matte_kernel, a.fg_iterations AS matte_fg, a.bg_iterations AS matte_bg, a.mask_hash AS matte_mask_hash, a.created_at AS matte_created_at`
const detailJoins = `LEFT JOIN masks m ON m.photo_id = p.id LEFT JOIN trimaps t ON t.photo_id = p.id LEFT JOIN mattes a ON a.photo_id = p.id`

function toSummary(r: PhotoRow): PhotoSummary {
  return {
    id: r.id,
    name: r.name,
    width: r.width,
    height: r.height,
    split: r.split,
    hasMask: r.mask_file !== null,
    maskFile: r.mask_file,
    maskUpdatedAt: r.mask_updated_at,
    leaves: r.leaves ?? null,
    thumbnail: r.thumbnail,
    importedAt: r.imported_at
  }
}

function toDetail(r: PhotoRow): PhotoDetail {
  return {
    ...toSummary(r),
    datasetId: r.dataset_id,
    file: r.file,
    hash: r.hash,
    bytes: r.bytes,
    sourcePath: r.source_path,
    mask: r.mask_file
      ? {
          file: r.mask_file,
          instancesFile: r.instances_file,
          leaves: r.leaves,
          source: r.mask_source!,
          madeBy: r.made_by!,
          madeByRun: r.probability_file !== null ? r.made_by_run : null,
          hash: r.mask_hash!,
          foreground: r.foreground ?? 0,
          modelMade: r.model_made === 1,
          updatedAt: r.mask_updated_at!,
          version: r.mask_version!
        }
      : null,
    trimap: r.trimap_file
      ? {
          file: r.trimap_file,
          kernelSize: r.trimap_kernel!,
          fgIterations: r.trimap_fg!,
          bgIterations: r.trimap_bg!,
          stale: r.trimap_mask_hash !== r.mask_hash,
          createdAt: r.trimap_created_at!
        }
      : null,
    matte: r.matte_file
      ? {
          file: r.matte_file,
          cutoutFile: r.cutout_file,
          kernelSize: r.matte_kernel!,
          fgIterations: r.matte_fg!,
          bgIterations: r.matte_bg!,
          // Stale when the mask changed, or the trimap was remade with other settings since.
          stale:
            r.matte_mask_hash !== r.mask_hash ||
            (r.trimap_file !== null && (r.trimap_kernel !== r.matte_kernel || r.trimap_fg !== r.matte_fg || r.trimap_bg !== r.matte_bg)),
          createdAt: r.matte_created_at!
        }
      : null
  }
}

export function getDataset(db: Db, id: number): DatasetSummary {
  const d = db
    .prepare('SELECT id, name, created_at, px_per_mm, trimap_mode, trimap_kernel, trimap_fg_iterations, trimap_bg_iterations FROM datasets WHERE id = ?')
    .get(id) as
    | {
        id: number
        name: string
        created_at: string
        px_per_mm: number | null
        trimap_mode: 'auto' | 'fixed'
        trimap_kernel: number
        trimap_fg_iterations: number
        trimap_bg_iterations: number
      }
    | undefined
  if (!d) throw new ApiError('not_found', `There is no dataset ${id}.`)
  const counts = db
    .prepare(
      `SELECT COUNT(*) AS photos, COUNT(m.photo_id) AS labelled,
              SUM(p.split = 'train') AS train, SUM(p.split = 'val') AS val, SUM(p.split = 'test') AS test, SUM(p.split IS NULL) AS none
       FROM photos p LEFT JOIN masks m ON m.photo_id = p.id WHERE p.dataset_id = ?`
    )
    .get(id) as { photos: number; labelled: number; train: number | null; val: number | null; test: number | null; none: number | null }
  const problems = (db.prepare('SELECT COUNT(*) AS n FROM import_problems WHERE dataset_id = ?').get(id) as { n: number }).n
  return {
    id: d.id,
    name: d.name,
    createdAt: d.created_at,
    photos: counts.photos,
    labelled: counts.labelled,
    splits: { train: counts.train ?? 0, val: counts.val ?? 0, test: counts.test ?? 0, none: counts.none ?? 0 },
    problems,
    pxPerMm: d.px_per_mm,
    trimap:
      d.trimap_mode === 'auto'
        ? { mode: 'auto' }
        : { mode: 'fixed', kernelSize: d.trimap_kernel, fgIterations: d.trimap_fg_iterations, bgIterations: d.trimap_bg_iterations }
  }
}

export function listDatasets(db: Db): DatasetSummary[] {
  const ids = db.prepare('SELECT id FROM datasets ORDER BY name COLLATE NOCASE').all() as { id: number }[]
  return ids.map(({ id }) => getDataset(db, id))
}

export function findDatasetByName(db: Db, name: string): DatasetSummary | null {
  const row = db.prepare('SELECT id FROM datasets WHERE name = ?').get(name.trim()) as { id: number } | undefined
  return row ? getDataset(db, row.id) : null
}

export function createDataset(db: Db, name: string): DatasetSummary {
  const trimmed = name.trim()
  if (!trimmed) throw new ApiError('invalid_argument', 'A dataset needs a name.')
  if (findDatasetByName(db, trimmed)) throw new ApiError('conflict', `There is already a dataset called “${trimmed}”.`)
  const { lastInsertRowid } = db.prepare('INSERT INTO datasets (name, created_at) VALUES (?, ?)').run(trimmed, new Date().toISOString())
  return getDataset(db, Number(lastInsertRowid))
}

export function updateDataset(db: Db, id: number, changes: { name?: string; pxPerMm?: number | null }): DatasetSummary {
  getDataset(db, id)
  if (changes.name !== undefined) {
    const other = findDatasetByName(db, changes.name)
    if (other && other.id !== id) throw new ApiError('conflict', `There is already a dataset called “${changes.name.trim()}”.`)
    db.prepare('UPDATE datasets SET name = ? WHERE id = ?').run(changes.name.trim(), id)
  }
  if (changes.pxPerMm !== undefined) db.prepare('UPDATE datasets SET px_per_mm = ? WHERE id = ?').run(changes.pxPerMm, id)
  return getDataset(db, id)
}

export function deleteDataset(db: Db, id: number): void {
  getDataset(db, id)
  db.prepare('DELETE FROM datasets WHERE id = ?').run(id)
}

function whereFor(datasetId: number, filter: PhotoFilter): { sql: string; params: unknown[] } {
  const clauses = ['p.dataset_id = ?']
  const params: unknown[] = [datasetId]
  if (filter.labelled === true) clauses.push('m.photo_id IS NOT NULL')
  if (filter.labelled === false) clauses.push('m.photo_id IS NULL')
  if (filter.split === 'none') clauses.push('p.split IS NULL')
  else if (filter.split) {
    clauses.push('p.split = ?')
    params.push(filter.split)
  }
  if (filter.search?.trim()) {
    clauses.push(`p.name LIKE ? ESCAPE '\\'`)
    params.push(`%${filter.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
  }
  return { sql: clauses.join(' AND '), params }
}

const orderBy = { name: 'p.name COLLATE NOCASE, p.id', date: 'p.imported_at, p.id' } as const

export function photosPage(
  db: Db,
  datasetId: number,
  filter: PhotoFilter,
  sort: 'name' | 'date',
  offset: number,
  limit: number
): { total: number; photos: PhotoSummary[] } {
  getDataset(db, datasetId)
  const where = whereFor(datasetId, filter)
  const total = (
    db.prepare(`SELECT COUNT(*) AS n FROM photos p LEFT JOIN masks m ON m.photo_id = p.id WHERE ${where.sql}`).get(...where.params) as { n: number }
  ).n
  const rows = db
    .prepare(`SELECT ${photoColumns} FROM photos p LEFT JOIN masks m ON m.photo_id = p.id WHERE ${where.sql} ORDER BY ${orderBy[sort]} LIMIT ? OFFSET ?`)
    .all(...where.params, limit, offset) as PhotoRow[]
  return { total, photos: rows.map(toSummary) }
}

/** All photos of a dataset, with masks, in name order (for jobs: matching, export, training). */
export function datasetPhotos(db: Db, datasetId: number): PhotoDetail[] {
  const rows = db
    .prepare(`SELECT ${detailColumns} FROM photos p ${detailJoins} WHERE p.dataset_id = ? ORDER BY p.name COLLATE NOCASE, p.id`)
    .all(datasetId) as PhotoRow[]
  return rows.map(toDetail)
}

export function getPhoto(db: Db, id: number): PhotoDetail {
  const row = db.prepare(`SELECT ${detailColumns} FROM photos p ${detailJoins} WHERE p.id = ?`).get(id) as PhotoRow | undefined
  if (!row) throw new ApiError('not_found', `There is no photo ${id}.`)
  return toDetail(row)
}

export function neighbourPhoto(db: Db, id: number, direction: 1 | -1, filter: PhotoFilter, sort: 'name' | 'date'): number | null {
  const photo = getPhoto(db, id)
  const where = whereFor(photo.datasetId, filter)
  // Small enough to do in one pass even for 10,000 photos: ids in grid order, then step.
  const ids = (
    db.prepare(`SELECT p.id FROM photos p LEFT JOIN masks m ON m.photo_id = p.id WHERE ${where.sql} ORDER BY ${orderBy[sort]}`).all(...where.params) as {
      id: number
    }[]
  ).map((r) => r.id)
  const i = ids.indexOf(id)
  const j = i + direction
  return i < 0 || j < 0 || j >= ids.length ? null : ids[j]
}

export interface NewPhoto {
  datasetId: number
  name: string
  file: string
  thumbnail: string
  hash: string
  bytes: number
  width: number
  height: number
  sourcePath: string | null
}

/** Insert a photo; returns null when the dataset already has a photo with the same content. */
export function insertPhoto(db: Db, p: NewPhoto): number | null {
  const result = db
    .prepare(
      `INSERT INTO photos (dataset_id, name, file, thumbnail, hash, bytes, width, height, source_path, imported_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, hash) DO NOTHING`
    )
    .run(p.datasetId, p.name, p.file, p.thumbnail, p.hash, p.bytes, p.width, p.height, p.sourcePath, new Date().toISOString())
  return result.changes === 0 ? null : Number(result.lastInsertRowid)
}

export function photoWithHash(db: Db, datasetId: number, hash: string): { id: number; name: string } | null {
  return (db.prepare('SELECT id, name FROM photos WHERE dataset_id = ? AND hash = ?').get(datasetId, hash) as { id: number; name: string } | undefined) ?? null
}

export interface MaskRecord {
  file: string
  instancesFile: string | null
  /** Leaves in the instance file; null without one. */
  leaves: number | null
  hash: string
  source: MaskSource
  madeBy: MaskMadeBy
  foreground: number
  modelMade: boolean
  /** For a mask a run made: the run, its probabilities file and the share of unsure pixels. */
  byRun?: { runId: number; probabilityFile: string; uncertainty: number }
  /** For a mask the dataset's pixel classifier made: its probabilities file and the share of unsure pixels. */
  byClassifier?: { probabilityFile: string; uncertainty: number }
}

/** Record the photo's mask (one more version than the one it replaces). */
export function setMask(db: Db, photoId: number, m: MaskRecord): void {
  db.prepare(
    `INSERT INTO masks (photo_id, file, instances_file, leaves, hash, source, made_by, foreground, model_made, made_by_run, probability_file, uncertainty, updated_at, made_by_classifier)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (photo_id) DO UPDATE SET file = excluded.file, instances_file = excluded.instances_file, leaves = excluded.leaves, hash = excluded.hash,
       source = excluded.source, made_by = excluded.made_by, foreground = excluded.foreground, model_made = excluded.model_made,
       made_by_run = excluded.made_by_run, probability_file = excluded.probability_file, uncertainty = excluded.uncertainty, updated_at = excluded.updated_at,
       made_by_classifier = excluded.made_by_classifier, version = masks.version + 1`
  ).run(
    photoId,
    m.file,
    m.instancesFile,
    m.instancesFile ? m.leaves : null,
    m.hash,
    m.source,
    m.madeBy,
    m.foreground,
    m.modelMade ? 1 : 0,
    m.byRun?.runId ?? null,
    m.byRun?.probabilityFile ?? m.byClassifier?.probabilityFile ?? null,
    m.byRun?.uncertainty ?? m.byClassifier?.uncertainty ?? null,
    new Date().toISOString(),
    m.byClassifier && !m.byRun ? 1 : 0
  )
}

export function recordProblem(db: Db, datasetId: number, jobId: number | null, path: string, reason: string): void {
  db.prepare('INSERT INTO import_problems (dataset_id, job_id, path, reason, created_at) VALUES (?, ?, ?, ?, ?)').run(
    datasetId,
    jobId,
    path,
    reason,
    new Date().toISOString()
  )
}

export function listProblems(db: Db, datasetId: number): ImportProblem[] {
  return (
    db.prepare('SELECT id, path, reason, created_at FROM import_problems WHERE dataset_id = ? ORDER BY id DESC').all(datasetId) as {
      id: number
      path: string
      reason: string
      created_at: string
    }[]
  ).map((r) => ({ id: r.id, path: r.path, reason: r.reason, createdAt: r.created_at }))
}

/**
 * Assign train/val/test at random by ratio, reproducibly: photos in name order, shuffled with the seed,
 * then cut by the ratio (rounded so the counts add up).
 */
export function splitByRatio(db: Db, datasetId: number, ratio: [number, number, number], seed: number): void {
  const sum = ratio[0] + ratio[1] + ratio[2]
  if (!(sum > 0) || ratio.some((r) => r < 0))
    throw new ApiError('invalid_argument', 'The split ratio needs non-negative parts that do not all equal zero, e.g. 80/20/0.')
  const ids = (db.prepare('SELECT id FROM photos WHERE dataset_id = ? ORDER BY name COLLATE NOCASE, id').all(datasetId) as { id: number }[]).map((r) => r.id)
  const random = seededRandom(seed)
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[ids[i], ids[j]] = [ids[j], ids[i]]
  }
  const nTrain = Math.round((ids.length * ratio[0]) / sum)
  const nVal = Math.min(ids.length - nTrain, Math.round((ids.length * ratio[1]) / sum))
  const update = db.prepare('UPDATE photos SET split = ? WHERE id = ?')
  db.transaction(() => {
    ids.forEach((id, i) => update.run(i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'test', id))
  })()
}

/**
 * Photos named (by file name or stem) for validation and for testing; every other photo is training. A name
 * that is no photo of the dataset, or one named for both, refuses the whole split.
 */
export function splitByNames(db: Db, datasetId: number, lists: { val: string[]; test: string[] }): void {
  const photos = db.prepare('SELECT id, name FROM photos WHERE dataset_id = ?').all(datasetId) as { id: number; name: string }[]
  const byName = new Map<string, number>()
  for (const p of photos) {
    byName.set(p.name, p.id)
    byName.set(stemOf(p.name), p.id)
  }
  const idsOf = (names: string[]) => {
    const missing = names.filter((n) => !byName.has(n))
    if (missing.length) {
      throw new ApiError(
        'invalid_argument',
        `These names are not photos of “${getDataset(db, datasetId).name}”: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`
      )
    }
    return new Set(names.map((n) => byName.get(n)!))
  }
  const val = idsOf(lists.val)
  const test = idsOf(lists.test)
  const both = photos.filter((p) => val.has(p.id) && test.has(p.id)).map((p) => p.name)
  if (both.length)
    throw new ApiError('invalid_argument', `A photo cannot be both validation and test: ${both.slice(0, 10).join(', ')}${both.length > 10 ? ', …' : ''}`)
  const update = db.prepare('UPDATE photos SET split = ? WHERE id = ?')
  db.transaction(() => {
    for (const p of photos) update.run(val.has(p.id) ? 'val' : test.has(p.id) ? 'test' : 'train', p.id)
  })()
}

/** A person confirmed a model-made mask. */
export function confirmMask(db: Db, photoId: number): void {
  db.prepare('UPDATE masks SET model_made = 0, updated_at = ? WHERE photo_id = ?').run(new Date().toISOString(), photoId)
}

/** The photo to show augmented samples of: a training photo with the most leaf first. */
export function previewPhotoId(db: Db, datasetId: number): number | null {
  const row = db
    .prepare(
      `SELECT p.id FROM photos p JOIN masks m ON m.photo_id = p.id WHERE p.dataset_id = ?
       ORDER BY p.split = 'train' DESC, m.foreground DESC, p.id LIMIT 1`
    )
    .get(datasetId) as { id: number } | undefined
  return row?.id ?? null
}

export function setSplit(db: Db, datasetId: number, photoIds: number[], split: Split | null): void {
  const update = db.prepare('UPDATE photos SET split = ? WHERE id = ? AND dataset_id = ?')
  db.transaction(() => {
    for (const id of photoIds) update.run(split, id, datasetId)
  })()
}
