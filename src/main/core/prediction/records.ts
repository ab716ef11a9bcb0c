// Prediction batches and their predicted photos in SQLite.
import { ApiError } from '../../../shared/errors'
import type { BatchTraits, LeafTraits, PredictedPhoto, PredictionBatch, Traits } from '../../../shared/api/prediction'
import type { Db } from '../store/database'
import type { JobStatus } from '../../../shared/domain'
import type { JobParams } from '../../../shared/api/jobs'

interface BatchRow {
  id: number
  run_id: number
  run_name: string
  checkpoint: 'best' | 'last'
  source: 'folder' | 'dataset'
  source_name: string
  dataset_id: number | null
  threshold: number
  cutouts: number
  min_leaf_area_px: number
  px_per_mm: number | null
  separates_leaves: number | null
  created_at: string
  photos: number
  total: number | null
  problems: number
  status: JobStatus | null
}

const batchSelect = `SELECT b.*, r.name AS run_name, json_extract(r.config, '$.instances') AS separates_leaves, j.status,
    (SELECT COUNT(*) FROM predicted_photos p WHERE p.batch_id = b.id) AS photos,
    (SELECT COUNT(*) FROM prediction_problems q WHERE q.batch_id = b.id) AS problems
  FROM prediction_batches b JOIN runs r ON r.id = b.run_id LEFT JOIN jobs j ON j.id = b.job_id`

function toBatch(r: BatchRow): PredictionBatch {
  return {
    id: r.id,
    runId: r.run_id,
    runName: r.run_name,
    checkpoint: r.checkpoint,
    source: r.source,
    sourceName: r.source_name,
    threshold: r.threshold,
    minLeafAreaPx: r.min_leaf_area_px,
    pxPerMm: r.px_per_mm,
    separatesLeaves: r.separates_leaves === 1,
    createdAt: r.created_at,
    photos: r.photos,
    total: r.total,
    problems: r.problems,
    status: r.status,
    canResume: r.status !== null && r.status !== 'running' && r.status !== 'queued' && (r.status !== 'succeeded' || r.problems > 0)
  }
}

export function getBatch(db: Db, id: number): PredictionBatch & { datasetId: number | null; cutouts: boolean } {
  const row = db.prepare(`${batchSelect} WHERE b.id = ?`).get(id) as BatchRow | undefined
  if (!row) throw new ApiError('not_found', `There is no prediction batch ${id}.`)
  return { ...toBatch(row), datasetId: row.dataset_id, cutouts: row.cutouts === 1 }
}

/** True while the job that fills the batch is still running. */
export function batchJobRunning(db: Db, id: number): boolean {
  return (
    db.prepare(`SELECT 1 FROM prediction_batches b JOIN jobs j ON j.id = b.job_id WHERE b.id = ? AND j.status IN ('queued','running')`).get(id) !== undefined
  )
}

/** Delete a batch and its predicted photos (their files are the caller's to remove). */
export function deleteBatch(db: Db, id: number): void {
  db.prepare('DELETE FROM prediction_batches WHERE id = ?').run(id)
}

export function listBatches(db: Db): PredictionBatch[] {
  return (db.prepare(`${batchSelect} ORDER BY b.id DESC`).all() as BatchRow[]).map(toBatch)
}

export function createBatch(
  db: Db,
  b: {
    runId: number
    checkpoint: 'best' | 'last'
    source: 'folder' | 'dataset'
    sourceName: string
    datasetId: number | null
    threshold: number
    cutouts: boolean
    minLeafAreaPx: number
    pxPerMm: number | null
  }
): number {
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO prediction_batches (run_id, checkpoint, source, source_name, dataset_id, threshold, cutouts, min_leaf_area_px, px_per_mm, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    .run(b.runId, b.checkpoint, b.source, b.sourceName, b.datasetId, b.threshold, b.cutouts ? 1 : 0, b.minLeafAreaPx, b.pxPerMm, new Date().toISOString())
  return Number(lastInsertRowid)
}

interface PredictedRow {
  id: number
  name: string
  photo_id: number | null
  photo_file: string | null
  mask_file: string
  probability_file: string
  cutout_file: string | null
  leaves_file: string | null
  width: number
  height: number
  area_px: number
  area_mm2: number | null
  foreground_fraction: number
  leaf_count: number
  noise_px: number
  accepted: number
}

export function batchPhotos(db: Db, batchId: number): (PredictedPhoto & { noisePx: number })[] {
  return (db.prepare('SELECT * FROM predicted_photos WHERE batch_id = ? ORDER BY name COLLATE NOCASE, id').all(batchId) as PredictedRow[]).map((r) => ({
    id: r.id,
    name: r.name,
    photoFile: r.photo_file,
    maskFile: r.mask_file,
    probabilityFile: r.probability_file,
    cutoutFile: r.cutout_file,
    leavesFile: r.leaves_file,
    width: r.width,
    height: r.height,
    areaPx: r.area_px,
    areaMm2: r.area_mm2,
    foregroundFraction: r.foreground_fraction,
    leafCount: r.leaf_count,
    noisePx: r.noise_px,
    photoId: r.photo_id,
    accepted: r.accepted === 1
  }))
}

export function recordPredictedPhoto(
  db: Db,
  batchId: number,
  p: Omit<PredictedPhoto, 'id' | 'accepted'> & {
    noisePx: number
    sourcePath: string | null
    photoHash: string
    traits: Traits | null
    leafTraits: LeafTraits[]
  }
): void {
  db.prepare(
    `INSERT INTO predicted_photos (batch_id, name, source_path, photo_id, photo_file, mask_file, probability_file, cutout_file, leaves_file, width, height, area_px, area_mm2, foreground_fraction, leaf_count, noise_px, photo_hash, traits, leaf_traits)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
  ).run(
    batchId,
    p.name,
    p.sourcePath,
    p.photoId,
    p.photoFile,
    p.maskFile,
    p.probabilityFile,
    p.cutoutFile,
    p.leavesFile,
    p.width,
    p.height,
    p.areaPx,
    p.areaMm2,
    p.foregroundFraction,
    p.leafCount,
    p.noisePx,
    p.photoHash,
    JSON.stringify(p.traits),
    JSON.stringify(p.leafTraits)
  )
}

/** Each predicted photo's traits (all its leaves together, and each leaf), in the batch's photo order. */
export function batchTraits(db: Db, batchId: number): BatchTraits['photos'] {
  const rows = db.prepare('SELECT id, name, traits, leaf_traits FROM predicted_photos WHERE batch_id = ? ORDER BY name COLLATE NOCASE, id').all(batchId) as {
    id: number
    name: string
    traits: string | null
    leaf_traits: string | null
  }[]
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    traits: r.traits ? (JSON.parse(r.traits) as Traits | null) : null,
    leaves: r.leaf_traits ? (JSON.parse(r.leaf_traits) as LeafTraits[]) : []
  }))
}

/** Content hashes of the photos the batch has predicted, and the file names its masks took. */
export function batchDone(db: Db, batchId: number): { hashes: Set<string>; maskFiles: string[] } {
  const rows = db.prepare('SELECT photo_hash, mask_file FROM predicted_photos WHERE batch_id = ?').all(batchId) as {
    photo_hash: string | null
    mask_file: string
  }[]
  return { hashes: new Set(rows.flatMap((r) => (r.photo_hash ? [r.photo_hash] : []))), maskFiles: rows.map((r) => r.mask_file) }
}

/** The job now working on the batch (its status is the batch's). */
export function setBatchJob(db: Db, batchId: number, jobId: number): void {
  db.prepare('UPDATE prediction_batches SET job_id = ? WHERE id = ?').run(jobId, batchId)
}

/** A job starts on the batch: the photos its source has now, and the last job's problems go (they are tried again). */
export function startBatch(db: Db, batchId: number, total: number): void {
  db.transaction(() => {
    db.prepare('UPDATE prediction_batches SET total = ? WHERE id = ?').run(total, batchId)
    db.prepare('DELETE FROM prediction_problems WHERE batch_id = ?').run(batchId)
  })()
}

export function recordBatchProblem(db: Db, batchId: number, problem: { path: string; reason: string }): void {
  db.prepare('INSERT INTO prediction_problems (batch_id, path, reason) VALUES (?, ?, ?)').run(batchId, problem.path, problem.reason)
}

export function batchProblems(db: Db, batchId: number): { path: string; reason: string }[] {
  return db.prepare('SELECT path, reason FROM prediction_problems WHERE batch_id = ? ORDER BY id').all(batchId) as { path: string; reason: string }[]
}

/** The request the batch's last job ran with (stored with the job), to run it again. */
export function batchRequest(db: Db, batchId: number): JobParams<'predict'> | null {
  const row = db.prepare('SELECT j.params FROM prediction_batches b JOIN jobs j ON j.id = b.job_id WHERE b.id = ?').get(batchId) as
    { params: string } | undefined
  return row ? (JSON.parse(row.params) as JobParams<'predict'>) : null
}

/** The predicted mask became its photo's label. */
export function markAccepted(db: Db, predictedPhotoId: number): void {
  db.prepare('UPDATE predicted_photos SET accepted = 1 WHERE id = ?').run(predictedPhotoId)
}
