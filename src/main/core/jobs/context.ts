// What a job handler gets: its project, a cancel signal and a progress reporter.
import type { LeafsegEvents } from '../../../shared/api'
import type { JobEvents, JobKind, JobParams, JobResult } from '../../../shared/api/jobs'
import type { Project } from '../project'

export interface JobContext<K extends JobKind = JobKind> {
  project: Project
  signal: AbortSignal
  /** The job's id (to link records such as import problems to it). */
  jobId: number
  /** Secrets given when the job was started; never stored. */
  secrets: Record<string, string>
  /** Report progress; cheap to call often (messages are rate-limited before they leave the job process). */
  progress(done: number, total: number, message?: string): void
  /** Send one of the API events this kind of job may send (not rate-limited: keep it to a few per second). */
  event<E extends JobEvents<K>>(name: E, payload: LeafsegEvents[E]): void
}

export type JobHandler<K extends JobKind> = (params: JobParams<K>, ctx: JobContext<K>) => Promise<JobResult<K>>

/** One handler for every job kind: the compiler checks none is missing and each takes and gives its kind's types. */
export type JobHandlers = { [K in JobKind]: JobHandler<K> }
