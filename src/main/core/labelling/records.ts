// The labelling step's SQL: who made each mask, and what a run left with a mask it made.
import type { Db } from '../store/database'
import type { MaskMadeBy } from '../../../shared/domain'
import type { ReviewItem } from '../../../shared/api/labelling'

export interface MaskProvenance {
  madeBy: MaskMadeBy
  modelMade: boolean
  byRun: { runId: number; probabilityFile: string; uncertainty: number } | null
}

export function maskProvenance(db: Db, photoId: number): MaskProvenance | null {
  const row = db.prepare('SELECT made_by, model_made, made_by_run, probability_file, uncertainty FROM masks WHERE photo_id = ?').get(photoId) as
    { made_by: MaskMadeBy; model_made: number; made_by_run: number | null; probability_file: string | null; uncertainty: number | null } | undefined
  if (!row) return null
  const byRun =
    row.made_by_run !== null && row.probability_file !== null
      ? { runId: row.made_by_run, probabilityFile: row.probability_file, uncertainty: row.uncertainty ?? 0 }
      : null
  return { madeBy: row.made_by, modelMade: row.model_made === 1, byRun }
}

/** Whether an evaluation still shows this mask file as its truth (then a replaced mask's file is kept). */
export function maskFileInUse(db: Db, file: string): boolean {
  return db.prepare('SELECT 1 FROM evaluation_photos WHERE mask_file = ? LIMIT 1').get(file) !== undefined
}

/** Model-made masks of a dataset that no person has checked, the most uncertain first. */
export function reviewQueue(db: Db, datasetId: number): ReviewItem[] {
  const rows = db
    .prepare(
      `SELECT p.id, p.name, p.thumbnail, m.made_by_run, m.uncertainty FROM photos p JOIN masks m ON m.photo_id = p.id
       WHERE p.dataset_id = ? AND m.model_made = 1 AND m.made_by_run IS NOT NULL
       ORDER BY m.uncertainty DESC, p.name COLLATE NOCASE, p.id`
    )
    .all(datasetId) as { id: number; name: string; thumbnail: string; made_by_run: number; uncertainty: number | null }[]
  return rows.map((r) => ({ photoId: r.id, name: r.name, thumbnail: r.thumbnail, runId: r.made_by_run, uncertainty: r.uncertainty ?? 0 }))
}
