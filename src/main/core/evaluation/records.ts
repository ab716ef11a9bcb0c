// Evaluations in SQLite, and the figures at any threshold from stored histograms.
import { ApiError } from '../../../shared/errors'
import type { EvaluationResult, EvaluationSource, EvaluationSummary, Scores } from '../../../shared/api/evaluation'
import type { Db } from '../store/database'
import { ThresholdSweep, type ProbabilityHistogram, type Scores as SegmentationScores } from './metrics'
import { summariseInstances, type InstanceScores } from './instances'

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
  p: { photoId: number; name: string; photoFile: string; maskFile: string; probabilityFile: string; histogram: ProbabilityHistogram; instances?: InstanceScores | null }
): void {
  db.prepare(
    'INSERT OR REPLACE INTO evaluation_photos (evaluation_id, photo_id, name, photo_file, mask_file, probability_file, histogram, instances) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
  ).run(
    evaluationId,
    p.photoId,
    p.name,
    p.photoFile,
    p.maskFile,
    p.probabilityFile,
    JSON.stringify({ leaf: Array.from(p.histogram.leaf), background: Array.from(p.histogram.background) }),
    p.instances ? JSON.stringify(p.instances) : null
  )
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
    instances: string | null
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
      falseNegative: result.perPhoto[i].confusion.fn,
      instances: p.instances ? (JSON.parse(p.instances) as InstanceScores) : null
    }))
  const instances = summariseInstances(perPhoto.flatMap((p) => (p.instances ? [p.instances] : [])))
  // Worst first: by how well the leaves were told apart where that was measured, else by IoU.
  const sbd = (p: (typeof perPhoto)[number]) => p.instances?.sbd ?? Infinity
  perPhoto.sort(instances ? (a, b) => sbd(a) - sbd(b) || a.scores.iou - b.scores.iou : (a, b) => a.scores.iou - b.scores.iou)
  return { ...toSummary(row), threshold: result.threshold, pooled: scores(result.pooled.scores), meanPerPhoto: scores(result.meanPerPhoto), perPhoto, instances }
}
