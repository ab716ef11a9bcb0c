// All of matting's SQL: the dataset's trimap settings, and the trimaps and mattes made for its photos.
import type { TrimapChoice, TrimapSettings } from '../../../shared/domain'
import type { Db } from '../store/database'

/** Remember a dataset's trimap choice; 'auto' keeps the last fixed values for a switch back. */
export function saveTrimapSettings(db: Db, datasetId: number, s: TrimapChoice): void {
  if (s.mode === 'auto') db.prepare(`UPDATE datasets SET trimap_mode = 'auto' WHERE id = ?`).run(datasetId)
  else
    db.prepare(`UPDATE datasets SET trimap_mode = 'fixed', trimap_kernel = ?, trimap_fg_iterations = ?, trimap_bg_iterations = ? WHERE id = ?`).run(
      s.kernelSize,
      s.fgIterations,
      s.bgIterations,
      datasetId
    )
}

export interface StoredTrimap {
  file: string
  kernel: number
  fg_iterations: number
  bg_iterations: number
}

/** Record (or replace) a photo's trimap: the file, its settings and the mask it was made from. */
export function recordTrimap(db: Db, photoId: number, file: string, s: TrimapSettings, maskHash: string, unknownPixels: number): void {
  db.prepare(
    `INSERT INTO trimaps (photo_id, file, kernel, fg_iterations, bg_iterations, mask_hash, unknown_pixels, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (photo_id) DO UPDATE SET file = excluded.file, kernel = excluded.kernel, fg_iterations = excluded.fg_iterations,
       bg_iterations = excluded.bg_iterations, mask_hash = excluded.mask_hash, unknown_pixels = excluded.unknown_pixels, created_at = excluded.created_at`
  ).run(photoId, file, s.kernelSize, s.fgIterations, s.bgIterations, maskHash, unknownPixels, new Date().toISOString())
}

export function storedTrimap(db: Db, photoId: number): StoredTrimap {
  return db.prepare('SELECT file, kernel, fg_iterations, bg_iterations FROM trimaps WHERE photo_id = ?').get(photoId) as StoredTrimap
}

/** Record (or replace) a photo's alpha matte, made from this trimap; any old cutout is dropped with it. */
export function recordMatte(db: Db, photoId: number, file: string, trimap: StoredTrimap, maskHash: string, seconds: number): void {
  db.prepare(
    `INSERT INTO mattes (photo_id, file, cutout_file, kernel, fg_iterations, bg_iterations, mask_hash, seconds, created_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (photo_id) DO UPDATE SET file = excluded.file, cutout_file = NULL, kernel = excluded.kernel, fg_iterations = excluded.fg_iterations,
       bg_iterations = excluded.bg_iterations, mask_hash = excluded.mask_hash, seconds = excluded.seconds, created_at = excluded.created_at`
  ).run(photoId, file, trimap.kernel, trimap.fg_iterations, trimap.bg_iterations, maskHash, seconds, new Date().toISOString())
}
