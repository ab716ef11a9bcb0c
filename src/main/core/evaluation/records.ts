// Evaluations in SQLite, and the figures at any threshold from stored histograms.
import { ApiError } from '../../../shared/errors'
import type { EvaluationPhoto, EvaluationResult, EvaluationSource, EvaluationSummary, Scores } from '../../../shared/api/evaluation'
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

/**
 * The thresholds the evaluation job measures the leaves at: every 0.1 (the slider shows the nearest). Each is a
 * separation of the photo's leaves (about 0.1-0.2 s for 500×530 px on one core), so not every 1/256.
 */
export const LEAF_THRESHOLDS = Array.from({ length: 9 }, (_, k) => (k + 1) / 10)

/** A photo's leaf measures as stored (the instances column, JSON): at each threshold, and the leaves drawn at 0.5. */
export interface StoredLeaves {
  /** Project-relative leaf-id PNG of the predicted leaves at threshold 0.5 (null: more leaves than it can hold). */
  file: string | null
  at: { threshold: number; scores: InstanceScores }[]
}

/** The stored column read back; evaluations made before the leaves were kept per threshold hold one InstanceScores (at 0.5). */
function parseLeaves(json: string | null): StoredLeaves | null {
  if (json === null) return null
  const value = JSON.parse(json) as StoredLeaves | InstanceScores
  return 'at' in value ? value : { file: null, at: [{ threshold: 0.5, scores: value }] }
}

/** The leaves drawn at 0.5, with their count. */
function drawnLeaves(stored: StoredLeaves | null): EvaluationPhoto['predictedLeaves'] {
  const at = stored?.at.find((e) => e.threshold === 0.5)
  return stored?.file && at ? { file: stored.file, count: at.scores.predicted } : null
}

/** The entry measured at the threshold nearest to `threshold`. */
function leavesNearest(stored: StoredLeaves, threshold: number): StoredLeaves['at'][number] {
  return stored.at.reduce((best, e) => (Math.abs(e.threshold - threshold) < Math.abs(best.threshold - threshold) ? e : best))
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
    .prepare(
      `SELECT e.id FROM evaluations e WHERE e.run_id = ? AND e.source = ? AND EXISTS (SELECT 1 FROM evaluation_photos p WHERE p.evaluation_id = e.id) ORDER BY e.id DESC LIMIT 1`
    )
    .get(runId, source) as { id: number } | undefined
  return row?.id ?? null
}

export function recordEvaluationPhoto(
  db: Db,
  evaluationId: number,
  p: {
    photoId: number
    name: string
    photoFile: string
    maskFile: string
    probabilityFile: string
    histogram: ProbabilityHistogram
    leaves?: StoredLeaves | null
  }
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
    p.leaves ? JSON.stringify(p.leaves) : null
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
  const leaves = photos.map((p) => parseLeaves(p.instances))
  // The leaf measures at the stored threshold nearest the slider's (the same one for every photo).
  const first = leaves.find((l) => l !== null)
  const leavesThreshold = first ? leavesNearest(first, threshold).threshold : null
  const perPhoto = photos.map((p, i) => ({
    photoId: p.photo_id,
    name: p.name,
    photoFile: p.photo_file,
    maskFile: p.mask_file,
    probabilityFile: p.probability_file,
    scores: scores(result.perPhoto[i].scores),
    truePositive: result.perPhoto[i].confusion.tp,
    falsePositive: result.perPhoto[i].confusion.fp,
    falseNegative: result.perPhoto[i].confusion.fn,
    instances: leaves[i] && leavesThreshold !== null ? leavesNearest(leaves[i], leavesThreshold).scores : null,
    predictedLeaves: drawnLeaves(leaves[i])
  }))
  const instances = summariseInstances(perPhoto.flatMap((p) => (p.instances ? [p.instances] : [])))
  // Worst first: by how well the leaves were told apart where that was measured, else by IoU.
  const sbd = (p: (typeof perPhoto)[number]) => p.instances?.sbd ?? Infinity
  perPhoto.sort(instances ? (a, b) => sbd(a) - sbd(b) || a.scores.iou - b.scores.iou : (a, b) => a.scores.iou - b.scores.iou)
  return {
    ...toSummary(row),
    threshold: result.threshold,
    pooled: scores(result.pooled.scores),
    meanPerPhoto: scores(result.meanPerPhoto),
    perPhoto,
    instances,
    leavesThreshold
  }
}
