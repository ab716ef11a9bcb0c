// Messages between the job runner (main process, CLI) and the job process that does the heavy work.
import type { ApiErrorShape } from '../../../shared/errors'
import type { EventName } from '../../../shared/api'
import type { JobKind } from '../../../shared/api/jobs'

export type ToJobProcess =
  | {
      type: 'run'
      jobId: number
      kind: JobKind
      params: unknown
      /** Values the job needs but that must never be stored or logged (an API key). */
      secrets: Record<string, string>
      projectDir: string
    }
  | { type: 'cancel'; jobId: number }

export type FromJobProcess =
  | { type: 'progress'; jobId: number; done: number; total: number; message: string | null }
  /** A job's own event (e.g. live training metrics), forwarded by the runner to the API's events. */
  | { type: 'event'; jobId: number; name: EventName; payload: unknown }
  | { type: 'succeeded'; jobId: number; result: unknown }
  | { type: 'failed'; jobId: number; error: ApiErrorShape }
  | { type: 'cancelled'; jobId: number }

/** One long-lived job process, whatever hosts it (Electron utilityProcess, Node child process, or in-process for the CLI). */
export interface JobProcess {
  send(message: ToJobProcess): void
  onMessage(listener: (message: FromJobProcess) => void): void
  /** Called once if the process dies; jobs in flight are then failed by the runner. */
  onExit(listener: (reason: string) => void): void
  kill(): void
}

export type JobProcessFactory = () => JobProcess
