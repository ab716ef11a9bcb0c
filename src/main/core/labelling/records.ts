// The labelling step's SQL: who made each mask, and what a run left with a mask it made.
import type { Db } from '../store/database'
import type { MaskMadeBy } from '../../../shared/domain'

export interface MaskProvenance {
  madeBy: MaskMadeBy
  modelMade: boolean
  byRun: { runId: number; probabilityFile: string; uncertainty: number } | null
}

export function maskProvenance(db: Db, photoId: number): MaskProvenance | null {
  const row = db.prepare('SELECT made_by, model_made, made_by_run, probability_file, uncertainty FROM masks WHERE photo_id = ?').get(photoId) as
    | { made_by: MaskMadeBy; model_made: number; made_by_run: number | null; probability_file: string | null; uncertainty: number | null }
    | undefined
  if (!row) return null
  const byRun = row.made_by_run !== null && row.probability_file !== null ? { runId: row.made_by_run, probabilityFile: row.probability_file, uncertainty: row.uncertainty ?? 0 } : null
  return { madeBy: row.made_by, modelMade: row.model_made === 1, byRun }
}

/** Whether an evaluation still shows this mask file as its truth (then a replaced mask's file is kept). */
export function maskFileInUse(db: Db, file: string): boolean {
  return db.prepare('SELECT 1 FROM evaluation_photos WHERE mask_file = ? LIMIT 1').get(file) !== undefined
}
