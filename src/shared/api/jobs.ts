// Every job kind with its params (stored with the job), its result and the events it may send: starting a
// job, its handler, reading `job.result` and a view's filter on its own jobs are all checked against this map.
import type { JobStatus, TrimapChoice } from '../domain'
import type { ImportMasksResult, ImportPhotosResult, MaskJobSource } from './datasets'
import type { MattingResult } from './matting'
import type { EstimateJobParams, RunEstimate, TrainJobParams, TrainJobResult } from './training'
import type { EvaluationSource, MeasurementSettings, PredictionRequest } from './evaluation'

type Problems = { path: string; reason: string }[]

export interface JobKinds {
  /** Counts only: proves the job path end to end (tests and development; not in the API of a packaged app). */
  demo: { params: { steps: number; stepMs: number; failAt?: number }; result: { steps: number }; events: never }
  'import-photos': { params: { datasetId: number; paths: string[] }; result: ImportPhotosResult; events: never }
  'import-masks': { params: { datasetId: number; source: MaskJobSource }; result: ImportMasksResult; events: never }
  'export-masks': { params: { datasetId: number; dir: string; format: 'png' | 'coco' }; result: { written: number; path: string }; events: never }
  trimaps: { params: { datasetId: number; settings: TrimapChoice }; result: MattingResult; events: never }
  mattes: { params: { datasetId: number; photoIds?: number[] }; result: MattingResult; events: never }
  cutouts: {
    params: { datasetId: number; dir: string; photoIds?: number[]; colours: 'foreground' | 'photo' }
    result: { written: number; dir: string; skipped: string[] }
    events: never
  }
  train: { params: TrainJobParams; result: TrainJobResult; events: 'training.progress' }
  /** Times a few training steps of a configuration on generated data: how long a run would take. */
  'estimate-training': { params: EstimateJobParams; result: RunEstimate; events: never }
  evaluate: {
    params: { evaluationId: number; runId: number; checkpoint: 'best' | 'last'; source: EvaluationSource; datasetId?: number }
    result: { evaluationId: number; photos: number }
    events: never
  }
  predict: {
    params: PredictionRequest & { batchId: number }
    /** photos: predicted by this job; skipped: already in the batch (a resumed batch). */
    result: { batchId: number; photos: number; skipped: number; problems: Problems; /** What predicted ('onnxruntime (CPU, 16 threads)'). */ engine: string }
    events: never
  }
  /** A run predicts a dataset's photos without a person's mask; each becomes a model-made mask to review. */
  prelabel: { params: { datasetId: number; runId: number }; result: { labelled: number; kept: number; problems: Problems }; events: never }
  /** A run's prediction of one photo, for the model assist on a photo it did not pre-label (kept in the run's folder). */
  'assist-prediction': { params: { runId: number; photoId: number }; result: { probabilityFile: string }; events: never }
  measure: { params: { datasetId: number; file: string; measure: MeasurementSettings }; result: { file: string; rows: number }; events: never }
  'export-onnx': { params: { runId: number; checkpoint: 'best' | 'last'; file: string }; result: { file: string; bytes: number }; events: never }
}

export type JobKind = keyof JobKinds
export type JobParams<K extends JobKind> = JobKinds[K]['params']
export type JobResult<K extends JobKind> = JobKinds[K]['result']
/** The API events a job of this kind may send from the job process (see JobContext.event). */
export type JobEvents<K extends JobKind> = JobKinds[K]['events']

/** An item (a photo, a file) that a job could not do, and why. */
export interface JobProblem {
  item: string
  reason: string
}

/** The items that failed in a job that ran to the end, read from its result; none for kinds without items. */
export function jobProblems(job: { kind: JobKind; result: unknown }): JobProblem[] {
  if (job.result === null || job.result === undefined) return []
  const fromPaths = (list: { path: string; reason: string }[]) => list.map((p) => ({ item: p.path, reason: p.reason }))
  switch (job.kind) {
    case 'import-photos':
      return fromPaths((job.result as JobResult<'import-photos'>).problems)
    case 'import-masks': {
      const r = job.result as JobResult<'import-masks'>
      return [...fromPaths(r.problems), ...fromPaths(r.unmatchedMasks)]
    }
    case 'trimaps':
    case 'mattes':
      return (job.result as MattingResult).problems.map((p) => ({ item: p.photo, reason: p.reason }))
    case 'cutouts':
      return (job.result as JobResult<'cutouts'>).skipped.map((name) => ({ item: name, reason: 'its alpha matte is stale (the mask changed since): matte it again, then export' }))
    case 'predict':
    case 'prelabel':
      return fromPaths((job.result as JobResult<'predict' | 'prelabel'>).problems)
    default:
      return []
  }
}

export interface JobFields {
  id: number
  /** A one-line description for people ("Import 120 photos into ‘Vines 2025’"). */
  title: string
  status: JobStatus
  /** Units done and total; total 0 while unknown. */
  done: number
  total: number
  message: string | null
  error: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Seconds left, estimated from the rate so far; null while unknown. */
  etaSeconds: number | null
  /** The items that failed, with their reasons (status 'done-with-problems'); empty otherwise. */
  problems: JobProblem[]
}

/** A job as every host sees it, discriminated by kind: `job.kind === 'train'` types `job.result`. */
export type JobInfo<K extends JobKind = JobKind> = K extends JobKind
  ? JobFields & {
      kind: K
      /** What the job produced (ids, counts), once it succeeded. */
      result: JobResult<K> | null
    }
  : never

/** Whether a job is of one of these kinds (a view's filter on its own jobs). */
export function isJobOf<K extends JobKind>(job: JobInfo, ...kinds: K[]): job is JobInfo<K> {
  return (kinds as JobKind[]).includes(job.kind)
}
