// What a job handler gets: its project, a cancel signal and a progress reporter.
import type { Project } from '../project'

export interface JobContext {
  project: Project
  signal: AbortSignal
  /** The job's id (to link records such as import problems to it). */
  jobId: number
  /** Secrets given when the job was started; never stored. */
  secrets: Record<string, string>
  /** Report progress; cheap to call often (messages are rate-limited before they leave the job process). */
  progress(done: number, total: number, message?: string): void
  /** Send an event to the app (not rate-limited: keep it to a few per second); see jobEventNames. */
  event(name: string, payload: unknown): void
}

export type JobHandler<P = unknown> = (params: P, ctx: JobContext) => Promise<unknown>
