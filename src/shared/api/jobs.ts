// Jobs: every job kind with its params (stored with the job), its result and the events it may send, assembled
// from the areas' own lists; and the methods that list, cancel and wait for jobs. Starting a job, its handler,
// reading `job.result` and a view's filter on its own jobs are all checked against this map.
import type { Job, JobProblem } from './job'
import type { DatasetJobs } from './datasets'
import type { MattingJobs, MattingResult } from './matting'
import type { TrainingJobs } from './training'
import type { EvaluationJobs } from './evaluation'
import type { PredictionJobs } from './prediction'
import type { LabellingJobs } from './labelling'

export type { JobFields, JobProblem } from './job'

export interface JobKinds extends DatasetJobs, MattingJobs, TrainingJobs, EvaluationJobs, PredictionJobs, LabellingJobs {
  /** Counts only: proves the job path end to end (tests and development; not in the API of a packaged app). */
  demo: { params: { steps: number; stepMs: number; failAt?: number }; result: { steps: number }; events: never }
}

export type JobKind = keyof JobKinds
export type JobParams<K extends JobKind> = JobKinds[K]['params']
export type JobResult<K extends JobKind> = JobKinds[K]['result']
/** The API events a job of this kind may send from the job process (see JobContext.event). */
export type JobEvents<K extends JobKind> = JobKinds[K]['events']

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
      return (job.result as JobResult<'cutouts'>).skipped.map((name) => ({
        item: name,
        reason: 'its alpha matte is stale (the mask changed since): matte it again, then export'
      }))
    case 'predict':
    case 'prelabel':
      return fromPaths((job.result as JobResult<'predict' | 'prelabel'>).problems)
    default:
      return []
  }
}

/** A job as every host sees it, discriminated by kind: `job.kind === 'train'` types `job.result`. */
export type JobInfo<K extends JobKind = JobKind> = K extends JobKind ? Job<K, JobResult<K>> : never

/** Whether a job is of one of these kinds (a view's filter on its own jobs). */
export function isJobOf<K extends JobKind>(job: JobInfo, ...kinds: K[]): job is JobInfo<K> {
  return (kinds as JobKind[]).includes(job.kind)
}

export interface JobsApi {
  'jobs.list'(args: Record<string, never>): Promise<JobInfo[]>
  'jobs.cancel'(args: { id: number }): Promise<JobInfo>
  /** Take the finished jobs off the jobs list; their records stay. Returns the list left. */
  'jobs.clear'(args: Record<string, never>): Promise<JobInfo[]>
  /** Resolves when the job has finished, whatever the outcome (the command line waits on its jobs with it). */
  'jobs.wait'(args: { id: number }): Promise<JobInfo>
  /** A job that only counts, to prove the job path end to end (tests, diagnostics). */
  'jobs.startDemo'(args: { steps: number; stepMs: number; failAt?: number }): Promise<JobInfo<'demo'>>
}
