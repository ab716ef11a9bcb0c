// The labelling step's SQL: who made each mask, and what a run left with a mask it made.
import type { Db } from '../store/database'
import type { MaskMadeBy } from '../../../shared/domain'
import type { ClassifierState, ReviewItem } from '../../../shared/api/labelling'

export interface MaskProvenance {
  madeBy: MaskMadeBy
  modelMade: boolean
  byRun: { runId: number; probabilityFile: string; uncertainty: number } | null
  byClassifier: { probabilityFile: string; uncertainty: number } | null
}

export function maskProvenance(db: Db, photoId: number): MaskProvenance | null {
  const row = db
    .prepare('SELECT made_by, model_made, made_by_run, made_by_classifier, probability_file, uncertainty FROM masks WHERE photo_id = ?')
    .get(photoId) as
    | {
        made_by: MaskMadeBy
        model_made: number
        made_by_run: number | null
        made_by_classifier: number
        probability_file: string | null
        uncertainty: number | null
      }
    | undefined
  if (!row) return null
  const byRun =
    row.made_by_run !== null && row.probability_file !== null
      ? { runId: row.made_by_run, probabilityFile: row.probability_file, uncertainty: row.uncertainty ?? 0 }
      : null
  const byClassifier =
    row.made_by_classifier === 1 && row.probability_file !== null ? { probabilityFile: row.probability_file, uncertainty: row.uncertainty ?? 0 } : null
  return { madeBy: row.made_by, modelMade: row.model_made === 1, byRun, byClassifier }
}

/** Whether an evaluation still shows this mask file as its truth (then a replaced mask's file is kept). */
export function maskFileInUse(db: Db, file: string): boolean {
  return db.prepare('SELECT 1 FROM evaluation_photos WHERE mask_file = ? LIMIT 1').get(file) !== undefined
}

/** Model-made masks of a dataset (by a run or by its pixel classifier) that no person has checked, the most uncertain first. */
export function reviewQueue(db: Db, datasetId: number): ReviewItem[] {
  const rows = db
    .prepare(
      `SELECT p.id, p.name, p.thumbnail, m.made_by_run, m.made_by_classifier, m.uncertainty FROM photos p JOIN masks m ON m.photo_id = p.id
       WHERE p.dataset_id = ? AND m.model_made = 1 AND (m.made_by_run IS NOT NULL OR m.made_by_classifier = 1)
       ORDER BY m.uncertainty DESC, p.name COLLATE NOCASE, p.id`
    )
    .all(datasetId) as { id: number; name: string; thumbnail: string; made_by_run: number | null; made_by_classifier: number; uncertainty: number | null }[]
  return rows.map((r) => ({
    photoId: r.id,
    name: r.name,
    thumbnail: r.thumbnail,
    runId: r.made_by_run,
    classifier: r.made_by_classifier === 1,
    uncertainty: r.uncertainty ?? 0
  }))
}

export interface StrokesRecord {
  photoId: number
  datasetId: number
  file: string
  leafPixels: number
  backgroundPixels: number
  version: number
}

export function getStrokes(db: Db, photoId: number): StrokesRecord | null {
  const r = db.prepare('SELECT * FROM strokes WHERE photo_id = ?').get(photoId) as StrokesRow | undefined
  return r ? toStrokes(r) : null
}

/** The photos of a dataset that have strokes of either kind. */
export function datasetStrokes(db: Db, datasetId: number): StrokesRecord[] {
  return (
    db.prepare('SELECT * FROM strokes WHERE dataset_id = ? AND leaf_pixels + background_pixels > 0 ORDER BY photo_id').all(datasetId) as StrokesRow[]
  ).map(toStrokes)
}

interface StrokesRow {
  photo_id: number
  dataset_id: number
  file: string
  leaf_pixels: number
  background_pixels: number
  version: number
}

const toStrokes = (r: StrokesRow): StrokesRecord => ({
  photoId: r.photo_id,
  datasetId: r.dataset_id,
  file: r.file,
  leafPixels: r.leaf_pixels,
  backgroundPixels: r.background_pixels,
  version: r.version
})

/** Record the photo's strokes file; returns the new version. */
export function setStrokes(db: Db, s: Omit<StrokesRecord, 'version'>): number {
  const row = db
    .prepare(
      `INSERT INTO strokes (photo_id, dataset_id, file, leaf_pixels, background_pixels, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (photo_id) DO UPDATE SET file = excluded.file, leaf_pixels = excluded.leaf_pixels, background_pixels = excluded.background_pixels,
         updated_at = excluded.updated_at, version = strokes.version + 1
       RETURNING version`
    )
    .get(s.photoId, s.datasetId, s.file, s.leafPixels, s.backgroundPixels, new Date().toISOString()) as { version: number }
  return row.version
}

export function getClassifierRecord(db: Db, datasetId: number): ClassifierState | null {
  const r = db.prepare('SELECT * FROM pixel_classifiers WHERE dataset_id = ?').get(datasetId) as
    | {
        dataset_id: number
        file: string
        settings: string
        photos: number
        leaf_pixels: number
        background_pixels: number
        train_ms: number
        trained_at: string
      }
    | undefined
  if (!r) return null
  return {
    datasetId: r.dataset_id,
    file: r.file,
    settings: JSON.parse(r.settings),
    photos: r.photos,
    leafPixels: r.leaf_pixels,
    backgroundPixels: r.background_pixels,
    trainMs: r.train_ms,
    trainedAt: r.trained_at
  }
}

/** Record the dataset's classifier; returns the file it replaced (or null). */
export function setClassifierRecord(db: Db, c: Omit<ClassifierState, 'trainedAt'>): string | null {
  return db
    .transaction(() => {
      const before = (db.prepare('SELECT file FROM pixel_classifiers WHERE dataset_id = ?').get(c.datasetId) as { file: string } | undefined)?.file ?? null
      db.prepare(
        `INSERT OR REPLACE INTO pixel_classifiers (dataset_id, file, settings, photos, leaf_pixels, background_pixels, train_ms, trained_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
      ).run(c.datasetId, c.file, JSON.stringify(c.settings), c.photos, c.leafPixels, c.backgroundPixels, c.trainMs, new Date().toISOString())
      return before
    })
    .immediate()
}
