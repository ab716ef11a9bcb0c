// Training runs in SQLite: the run, its frozen dataset snapshot and its per-epoch metrics.
import type { Db } from '../store/database'
import { ApiError } from '../../../shared/errors'
import type { RunDetail, RunEpoch, RunMetrics, RunSnapshotPhoto, RunStatus, RunSummary, TrainingConfig } from '../../../shared/api/training'
import type { GpuWorkerHello } from '../../../shared/gpu-worker'
import { clampWorkers, presetLabels } from '../../../shared/training-config'
import { getDataset } from '../datasets/records'

interface RunRow {
  id: number
  name: string
  notes: string
  dataset_id: number | null
  dataset_name: string
  status: 'running' | 'completed' | 'cancelled' | 'failed'
  config: string
  backend: string | null
  device: string | null
  backend_reason: string | null
  gpu: string | null
  job_id: number | null
  created_at: string
  finished_at: string | null
  error: string | null
  stopped_early: number
  best_epoch: number | null
  best_model: string | null
  last_model: string | null
  // joined
  job_status: string | null
  epochs_done: number
  seconds: number | null
  best_iou: number | null
  best_dice: number | null
  train_photos: number
  val_photos: number
}

const runQuery = `
  SELECT r.*, j.status AS job_status,
    (SELECT COUNT(*) FROM run_epochs e WHERE e.run_id = r.id) AS epochs_done,
    (SELECT SUM(seconds) FROM run_epochs e WHERE e.run_id = r.id) AS seconds,
    (SELECT val_iou FROM run_epochs e WHERE e.run_id = r.id AND e.epoch = r.best_epoch) AS best_iou,
    (SELECT val_dice FROM run_epochs e WHERE e.run_id = r.id AND e.epoch = r.best_epoch) AS best_dice,
    (SELECT COUNT(*) FROM run_photos p WHERE p.run_id = r.id AND p.split = 'train') AS train_photos,
    (SELECT COUNT(*) FROM run_photos p WHERE p.run_id = r.id AND p.split = 'val') AS val_photos
  FROM runs r LEFT JOIN jobs j ON j.id = r.job_id`

/** A run marked running whose job is no longer running was cut off (crash, app closed, job process died). */
function effectiveStatus(r: RunRow): RunStatus {
  if (r.status === 'running' && r.job_status !== 'running' && r.job_status !== 'queued') return 'interrupted'
  return r.status
}

function toSummary(r: RunRow): RunSummary {
  const status = effectiveStatus(r)
  const config = JSON.parse(r.config) as TrainingConfig
  return {
    id: r.id,
    name: r.name,
    notes: r.notes,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name,
    status,
    config,
    backend: r.backend,
    device: r.device,
    backendReason: r.backend_reason,
    renderer: r.gpu ? (JSON.parse(r.gpu) as GpuWorkerHello).renderer : null,
    jobId: r.job_id,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    error: r.error,
    stoppedEarly: r.stopped_early === 1,
    epochsDone: r.epochs_done,
    bestEpoch: r.best_epoch,
    bestValIoU: r.best_iou,
    bestValDice: r.best_dice,
    seconds: r.seconds ?? 0,
    trainPhotos: r.train_photos,
    valPhotos: r.val_photos,
    bestModel: r.best_model,
    lastModel: r.last_model,
    canResume: (status === 'cancelled' || status === 'interrupted' || status === 'failed') && r.epochs_done < config.epochs
  }
}

export function getRun(db: Db, id: number): RunSummary {
  const row = db.prepare(`${runQuery} WHERE r.id = ?`).get(id) as RunRow | undefined
  if (!row) throw new ApiError('not_found', `There is no training run ${id}.`)
  return toSummary(row)
}

export function listRuns(db: Db): RunSummary[] {
  return (db.prepare(`${runQuery} ORDER BY r.id DESC`).all() as RunRow[]).map(toSummary)
}

interface EpochRow {
  epoch: number
  seconds: number
  best: number
  [column: string]: number
}

const metricNames = ['loss', 'accuracy', 'iou', 'dice', 'precision', 'recall'] as const

function metricsOf(row: EpochRow, prefix: 'train' | 'val'): RunMetrics {
  return Object.fromEntries(metricNames.map((m) => [m, row[`${prefix}_${m}`]])) as unknown as RunMetrics
}

export function runEpochs(db: Db, runId: number): RunEpoch[] {
  const rows = db.prepare('SELECT * FROM run_epochs WHERE run_id = ? ORDER BY epoch').all(runId) as EpochRow[]
  return rows.map((r) => ({ epoch: r.epoch, train: metricsOf(r, 'train'), validation: metricsOf(r, 'val'), seconds: r.seconds, best: r.best === 1 }))
}

export interface SnapshotPhoto extends RunSnapshotPhoto {
  /** Project-relative files: the photo (content-addressed, never rewritten) and the run's copy of its mask. */
  photoFile: string
  maskFile: string
}

export function runSnapshot(db: Db, runId: number): SnapshotPhoto[] {
  return (
    db
      .prepare(
        'SELECT photo_id, name, split, photo_hash, mask_hash, photo_file, mask_file FROM run_photos WHERE run_id = ? ORDER BY split DESC, name COLLATE NOCASE, photo_id'
      )
      .all(runId) as { photo_id: number; name: string; split: 'train' | 'val'; photo_hash: string; mask_hash: string; photo_file: string; mask_file: string }[]
  ).map((r) => ({
    photoId: r.photo_id,
    name: r.name,
    split: r.split,
    photoHash: r.photo_hash,
    maskHash: r.mask_hash,
    photoFile: r.photo_file,
    maskFile: r.mask_file
  }))
}

export function getRunDetail(db: Db, id: number): RunDetail {
  return { ...getRun(db, id), epochs: runEpochs(db, id), snapshot: runSnapshot(db, id).map(({ photoFile: _p, maskFile: _m, ...photo }) => photo) }
}

/** The mask a snapshot keeps for a photo: the run's own copy, so re-imported masks cannot change it. */
export const snapshotMaskFile = (runId: number, photoId: number) => `runs/${runId}/masks/${photoId}.png`

/** Beside it, the run's copy of the mask's leaf instances (a run that separates leaves copies them, when the mask has them). */
export const snapshotInstancesFile = (maskFile: string) => maskFile.replace(/\.png$/, '.instances.png')

/**
 * Create a run with its dataset snapshot: every photo of the train and validation splits that has a
 * mask. Refuses, with what to do, a dataset that cannot train.
 */
/** Photos with masks in the training and validation splits: what a run of the dataset would use. */
export function labelledSplitCounts(db: Db, datasetId: number): { train: number; val: number } {
  const rows = db
    .prepare(
      `SELECT p.split, COUNT(*) AS n FROM photos p JOIN masks m ON m.photo_id = p.id WHERE p.dataset_id = ? AND p.split IN ('train','val') GROUP BY p.split`
    )
    .all(datasetId) as { split: 'train' | 'val'; n: number }[]
  return { train: rows.find((r) => r.split === 'train')?.n ?? 0, val: rows.find((r) => r.split === 'val')?.n ?? 0 }
}

export function createRun(db: Db, datasetId: number, name: string | undefined, config: TrainingConfig): RunSummary {
  const dataset = getDataset(db, datasetId)
  const photos = db
    .prepare(
      `SELECT p.id, p.name, p.file, p.hash, p.split, m.file AS mask_file, m.hash AS mask_hash
       FROM photos p JOIN masks m ON m.photo_id = p.id
       WHERE p.dataset_id = ? AND p.split IN ('train','val') ORDER BY p.name COLLATE NOCASE, p.id`
    )
    .all(datasetId) as { id: number; name: string; file: string; hash: string; split: 'train' | 'val'; mask_file: string; mask_hash: string }[]
  const train = photos.filter((p) => p.split === 'train').length
  const val = photos.length - train
  const where = `the dataset “${dataset.name}”`
  if (dataset.labelled === 0)
    throw new ApiError('bad_input', `${where} has no masks. Import masks (or draw them) before training: the network learns from photos with their masks.`)
  if (train < 2)
    throw new ApiError(
      'bad_input',
      `Training needs at least 2 photos with masks in the training split; ${where} has ${train}. Assign more labelled photos to training (Datasets → Split).`
    )
  if (val === 0)
    throw new ApiError(
      'bad_input',
      `Training needs at least 1 photo with a mask in the validation split to measure the model; ${where} has none. Assign some labelled photos to validation (Datasets → Split).`
    )
  return db.transaction(() => {
    const { lastInsertRowid } = db
      .prepare(`INSERT INTO runs (name, dataset_id, dataset_name, status, config, created_at) VALUES ('', ?, ?, 'running', ?, ?)`)
      .run(datasetId, dataset.name, JSON.stringify(config), new Date().toISOString())
    const id = Number(lastInsertRowid)
    db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name?.trim() || `Run ${id} · ${presetLabels[config.preset]} on ${dataset.name}`, id)
    const insert = db.prepare(
      'INSERT INTO run_photos (run_id, photo_id, name, photo_file, photo_hash, mask_file, mask_hash, split) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
    )
    for (const p of photos) insert.run(id, p.id, p.name, p.file, p.hash, snapshotMaskFile(id, p.id), p.mask_hash, p.split)
    return getRun(db, id)
  })()
}

/** Where a snapshot's masks are copied from: the dataset's current masks, which must still be the frozen ones. */
export function currentMasks(db: Db, runId: number): Map<number, { file: string; hash: string; instancesFile: string | null }> {
  const rows = db
    .prepare('SELECT m.photo_id, m.file, m.hash, m.instances_file FROM run_photos r JOIN masks m ON m.photo_id = r.photo_id WHERE r.run_id = ?')
    .all(runId) as { photo_id: number; file: string; hash: string; instances_file: string | null }[]
  return new Map(rows.map((r) => [r.photo_id, { file: r.file, hash: r.hash, instancesFile: r.instances_file }]))
}

export function setRunJob(db: Db, runId: number, jobId: number): void {
  db.prepare(`UPDATE runs SET job_id = ?, status = 'running', error = NULL, finished_at = NULL WHERE id = ?`).run(jobId, runId)
}

export function setRunBackend(db: Db, runId: number, b: { backend: string; device: string; reason?: string; gpu?: GpuWorkerHello }): void {
  db.prepare('UPDATE runs SET backend = ?, device = ?, backend_reason = ?, gpu = ? WHERE id = ?').run(
    b.backend,
    b.device,
    b.reason ?? null,
    b.gpu ? JSON.stringify(b.gpu) : null,
    runId
  )
}

/** The GPU the latest run on `backend` (webgl, webgpu) saw on this project (its limits inform the fit check). */
export function lastGpu(db: Db, backend: 'webgl' | 'webgpu'): GpuWorkerHello | null {
  const row = db.prepare(`SELECT gpu FROM runs WHERE gpu IS NOT NULL AND backend = ? ORDER BY id DESC LIMIT 1`).get(backend) as { gpu: string } | undefined
  return row ? (JSON.parse(row.gpu) as GpuWorkerHello) : null
}

export function setRunEpochs(db: Db, runId: number, epochs: number): void {
  const run = getRun(db, runId)
  db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify({ ...run.config, epochs }), runId)
}

/** A resumed run may train with another number of CPU workers (the maths is the same, to summation order). */
export function setRunWorkers(db: Db, runId: number, workers: number): void {
  const run = getRun(db, runId)
  db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify({ ...run.config, workers: clampWorkers(workers, run.config.batchSize) }), runId)
}

/** Record an epoch (again, when a resume replays one that was saved but not recorded) and the checkpoints it left. */
export function recordEpoch(db: Db, runId: number, e: RunEpoch, models: { best: string; last: string }): void {
  db.transaction(() => {
    db.prepare(
      `INSERT OR REPLACE INTO run_epochs (run_id, epoch, train_loss, train_accuracy, train_iou, train_dice, train_precision, train_recall,
         val_loss, val_accuracy, val_iou, val_dice, val_precision, val_recall, seconds, best)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    ).run(runId, e.epoch, ...metricNames.map((m) => e.train[m]), ...metricNames.map((m) => e.validation[m]), e.seconds, e.best ? 1 : 0)
    db.prepare('UPDATE runs SET last_model = ? WHERE id = ?').run(models.last, runId)
    if (e.best) db.prepare('UPDATE runs SET best_epoch = ?, best_model = ? WHERE id = ?').run(e.epoch, models.best, runId)
  })()
}

/** Forget recorded epochs after `keep` (the checkpoint a resume starts from is the truth). */
export function truncateEpochs(db: Db, runId: number, keep: number): void {
  db.transaction(() => {
    db.prepare('DELETE FROM run_epochs WHERE run_id = ? AND epoch > ?').run(runId, keep)
    if (keep === 0) db.prepare('UPDATE runs SET best_epoch = NULL, best_model = NULL, last_model = NULL WHERE id = ?').run(runId)
  })()
}

export function finishRun(db: Db, runId: number, status: 'completed' | 'cancelled' | 'failed', fields: { error?: string; stoppedEarly?: boolean } = {}): void {
  db.prepare('UPDATE runs SET status = ?, error = ?, stopped_early = ?, finished_at = ? WHERE id = ?').run(
    status,
    fields.error ?? null,
    fields.stoppedEarly ? 1 : 0,
    new Date().toISOString(),
    runId
  )
}

export function updateRun(db: Db, id: number, changes: { name?: string; notes?: string }): RunSummary {
  getRun(db, id)
  if (changes.name !== undefined) {
    if (!changes.name.trim()) throw new ApiError('invalid_argument', 'A run needs a name.')
    db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(changes.name.trim(), id)
  }
  if (changes.notes !== undefined) db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run(changes.notes, id)
  return getRun(db, id)
}

export function deleteRunRecord(db: Db, id: number): void {
  db.prepare('DELETE FROM runs WHERE id = ?').run(id)
}

/** The backend the latest run that started measured (what the next run most likely gets). */
export function lastRunBackend(db: Db): { backend: string; device: string; reason: string | null; renderer: string | null } | null {
  const row = db.prepare(`SELECT backend, device, backend_reason AS reason, gpu FROM runs WHERE backend IS NOT NULL ORDER BY id DESC LIMIT 1`).get() as
    { backend: string; device: string; reason: string | null; gpu: string | null } | undefined
  if (!row) return null
  const { gpu, ...rest } = row
  return { ...rest, renderer: gpu ? (JSON.parse(gpu) as GpuWorkerHello).renderer : null }
}
