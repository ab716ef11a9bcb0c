// Evaluations and prediction batches in SQLite, and the figures at any threshold from stored histograms.
import { ApiError } from '../../../shared/errors'
import type { EvaluationResult, EvaluationSource, EvaluationSummary, PredictedPhoto, PredictionBatch, Scores } from '../../../shared/api/evaluation'
import type { Db } from '../store/database'
import { ThresholdSweep, type ProbabilityHistogram, type Scores as SegmentationScores } from '../eval'

interface EvaluationRow {
  id: number
  run_id: number
  checkpoint: 'best' | 'last'
  source: EvaluationSource
  dataset_name: string
  created_at: string
  photos: number
}

function toSummary(r: EvaluationRow): EvaluationSummary {
  return { id: r.id, runId: r.run_id, checkpoint: r.checkpoint, source: r.source, datasetName: r.dataset_name, photos: r.photos, createdAt: r.created_at }
}

const evaluationSelect = `SELECT e.*, (SELECT COUNT(*) FROM evaluation_photos p WHERE p.evaluation_id = e.id) AS photos FROM evaluations e`

export function createEvaluation(db: Db, runId: number, checkpoint: 'best' | 'last', source: EvaluationSource, datasetName: string): number {
  const { lastInsertRowid } = db
    .prepare('INSERT INTO evaluations (run_id, checkpoint, source, dataset_name, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(runId, checkpoint, source, datasetName, new Date().toISOString())
  return Number(lastInsertRowid)
}

export function listEvaluations(db: Db, runId: number): EvaluationSummary[] {
  return (db.prepare(`${evaluationSelect} WHERE e.run_id = ? ORDER BY e.id DESC`).all(runId) as EvaluationRow[]).map(toSummary)
}

export function latestEvaluation(db: Db, runId: number, source: EvaluationSource): number | null {
  const row = db
    .prepare(`SELECT e.id FROM evaluations e WHERE e.run_id = ? AND e.source = ? AND EXISTS (SELECT 1 FROM evaluation_photos p WHERE p.evaluation_id = e.id) ORDER BY e.id DESC LIMIT 1`)
    .get(runId, source) as { id: number } | undefined
  return row?.id ?? null
}

export function recordEvaluationPhoto(
  db: Db,
  evaluationId: number,
  p: { photoId: number; name: string; photoFile: string; maskFile: string; probabilityFile: string; histogram: ProbabilityHistogram }
): void {
  db.prepare(
    'INSERT OR REPLACE INTO evaluation_photos (evaluation_id, photo_id, name, photo_file, mask_file, probability_file, histogram) VALUES (?, ?, ?, ?, ?, ?, ?)'
  ).run(evaluationId, p.photoId, p.name, p.photoFile, p.maskFile, p.probabilityFile, JSON.stringify({ leaf: Array.from(p.histogram.leaf), background: Array.from(p.histogram.background) }))
}

function scores(s: SegmentationScores): Scores {
  return { accuracy: s.pixelAccuracy, iou: s.iou, dice: s.dice, precision: s.precision, recall: s.recall }
}

export function evaluationAt(db: Db, id: number, threshold: number): EvaluationResult {
  const row = db.prepare(`${evaluationSelect} WHERE e.id = ?`).get(id) as EvaluationRow | undefined
  if (!row) throw new ApiError('not_found', `There is no evaluation ${id}.`)
  const photos = db.prepare('SELECT * FROM evaluation_photos WHERE evaluation_id = ? ORDER BY name COLLATE NOCASE').all(id) as {
    photo_id: number
    name: string
    photo_file: string
    mask_file: string
    probability_file: string
    histogram: string
  }[]
  if (photos.length === 0) throw new ApiError('not_found', `Evaluation ${id} has no results (it did not finish).`)
  const histograms = photos.map((p) => {
    const h = JSON.parse(p.histogram) as { leaf: number[]; background: number[] }
    return { leaf: Uint32Array.from(h.leaf), background: Uint32Array.from(h.background) } satisfies ProbabilityHistogram
  })
  const result = new ThresholdSweep(histograms).evaluate(threshold)
  const perPhoto = photos
    .map((p, i) => ({
      photoId: p.photo_id,
      name: p.name,
      photoFile: p.photo_file,
      maskFile: p.mask_file,
      probabilityFile: p.probability_file,
      scores: scores(result.perPhoto[i].scores),
      truePositive: result.perPhoto[i].confusion.tp,
      falsePositive: result.perPhoto[i].confusion.fp,
      falseNegative: result.perPhoto[i].confusion.fn
    }))
    .sort((a, b) => a.scores.iou - b.scores.iou)
  return { ...toSummary(row), threshold: result.threshold, pooled: scores(result.pooled.scores), meanPerPhoto: scores(result.meanPerPhoto), perPhoto }
}

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
  created_at: string
  photos: number
}

const batchSelect = `SELECT b.*, r.name AS run_name, (SELECT COUNT(*) FROM predicted_photos p WHERE p.batch_id = b.id) AS photos
  FROM prediction_batches b JOIN runs r ON r.id = b.run_id`

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
    createdAt: r.created_at,
    photos: r.photos
  }
}

export function getBatch(db: Db, id: number): PredictionBatch & { datasetId: number | null; cutouts: boolean } {
  const row = db.prepare(`${batchSelect} WHERE b.id = ?`).get(id) as BatchRow | undefined
  if (!row) throw new ApiError('not_found', `There is no prediction batch ${id}.`)
  return { ...toBatch(row), datasetId: row.dataset_id, cutouts: row.cutouts === 1 }
}

export function listBatches(db: Db): PredictionBatch[] {
  return (db.prepare(`${batchSelect} ORDER BY b.id DESC`).all() as BatchRow[]).map(toBatch)
}

export function createBatch(
  db: Db,
  b: { runId: number; checkpoint: 'best' | 'last'; source: 'folder' | 'dataset'; sourceName: string; datasetId: number | null; threshold: number; cutouts: boolean; minLeafAreaPx: number; pxPerMm: number | null }
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
  p: Omit<PredictedPhoto, 'id' | 'accepted'> & { noisePx: number; sourcePath: string | null }
): void {
  db.prepare(
    `INSERT INTO predicted_photos (batch_id, name, source_path, photo_id, photo_file, mask_file, probability_file, cutout_file, width, height, area_px, area_mm2, foreground_fraction, leaf_count, noise_px)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
  ).run(batchId, p.name, p.sourcePath, p.photoId, p.photoFile, p.maskFile, p.probabilityFile, p.cutoutFile, p.width, p.height, p.areaPx, p.areaMm2, p.foregroundFraction, p.leafCount, p.noisePx)
}
