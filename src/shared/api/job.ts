// A job as every area's methods return it. A leaf module: the areas import it, and jobs.ts assembles their
// job kinds, so no area imports another through the list of jobs.
import type { JobStatus } from '../domain'

/** An item (a photo, a file) that a job could not do, and why. */
export interface JobProblem {
  item: string
  reason: string
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

/** A job of kind K whose result, once it succeeded, is R. */
export type Job<K extends string, R> = JobFields & {
  kind: K
  /** What the job produced (ids, counts), once it succeeded. */
  result: R | null
}
