// The one contract between the UI and the application: every method with its request and response,
// and every event. The Electron IPC adapter and the web host register these generically, and the
// renderer's client is typed from the same interface, so a renamed method fails to compile everywhere.
import type { ProjectInfo } from './domain'
import type { JobInfo, JobsApi } from './api/jobs'
import type { AppApi } from './api/app'
import type { DatasetsApi } from './api/datasets'
import type { MattingApi } from './api/matting'
import type { EvaluationApi } from './api/evaluation'
import type { PredictionApi } from './api/prediction'
import type { TrainingApi, TrainingProgress } from './api/training'
import type { LabellingApi } from './api/labelling'

/** Every method, by area: one file per area under ./api/, the pipeline's steps in order. */
export interface LeafsegApi extends AppApi, JobsApi, DatasetsApi, MattingApi, TrainingApi, EvaluationApi, PredictionApi, LabellingApi {}

export type ApiMethod = keyof LeafsegApi
export type ApiArgs<M extends ApiMethod> = Parameters<LeafsegApi[M]>[0]
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<LeafsegApi[M]>>

export interface LeafsegEvents {
  /** A job was created or changed (status, progress); at a bounded rate. */
  'job.updated': JobInfo
  /** The open project changed (opened, closed). */
  'project.changed': ProjectInfo | null
  /** A training job's loss per batch and metrics per epoch (sent by the job process). */
  'training.progress': TrainingProgress
  /** Progress of work on plain folders outside a project (no job row): trimaps, mattes, a model's masks. */
  'folder.progress': FolderProgress
}

export interface FolderProgress {
  /** The API method doing the work. */
  method: ApiMethod
  done: number
  total: number
  message: string
}

export type EventName = keyof LeafsegEvents

/** Events that jobs may send from the job process; the runner forwards only these. */
export const jobEventNames: readonly EventName[] = ['training.progress']

/** What a renderer holds: the same shape over the preload bridge and over HTTP. */
export interface LeafsegClient {
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>>
  on<E extends EventName>(event: E, listener: (payload: LeafsegEvents[E]) => void): () => void
}

/** The bridge that the preload script exposes as `window.leafseg`. */
export interface PreloadBridge {
  invoke(method: string, args: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }>
  on(listener: (event: string, payload: unknown) => void): () => void
  /** The file system path of a dropped File (Electron only). */
  pathForFile(file: File): string
}

/**
 * The Electron IPC channels: one carries every method call, one every event, and one registers the path
 * of a really dropped File (sent by the preload only, as it reads the path; see src/preload/index.ts).
 */
export const ipcChannels = { invoke: 'leafseg:invoke', event: 'leafseg:event', droppedPath: 'leafseg:dropped-path' } as const
