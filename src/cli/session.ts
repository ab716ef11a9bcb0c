// A CLI session: an ordinary client of the API (through dispatch, like the app's windows), jobs run in this
// process, progress drawn on stderr. The core is loaded only when a command runs, so --help stays quick.
import { SingleBar, Presets } from 'cli-progress'
import type { ApiArgs, ApiMethod, ApiResult, LeafsegClient } from '../shared/api'
import type { JobInfo, JobKind, JobResult } from '../shared/api/jobs'
import { ApiError } from '../shared/errors'
import { jobCompleted } from '../shared/domain'
import type { Session } from '../node-host/session'
import { noteProblems } from './command'

/** A job that ran to the end: its result is there (its problems, if any, are counted for the exit code). */
export type FinishedJob<K extends JobKind> = JobInfo<K> & { result: JobResult<K> }

export interface Cli extends LeafsegClient {
  /**
   * Start a job, show its progress on stderr (unless --json), and wait for it. Ctrl-C cancels the job
   * cleanly. A failed or cancelled job becomes an ApiError; the failed items of one that ran to the end are
   * counted for the exit code.
   */
  runJob<K extends JobKind>(start: () => Promise<JobInfo<K>>): Promise<FinishedJob<K>>
  /** Draw the progress of work on plain folders (no job), for as long as `work` runs. */
  withFolderProgress<T>(work: () => Promise<T>): Promise<T>
  /** Validate an argument as `call` would, without calling (refuse before anything is written). */
  check: Session['check']
  /** Open the project the command names. */
  open(dir: string): Promise<void>
}

/** Seconds between plain progress lines when stderr is not a terminal (a log file, CI, a pipe). */
const PLAIN_PROGRESS_EVERY_S = 10

/**
 * Progress on stderr, none with --json: a bar on a terminal; otherwise a plain line (no escape codes) at the
 * start, every PLAIN_PROGRESS_EVERY_S seconds and at the end.
 */
function progressBar(quiet: boolean): { update(done: number, total: number, message?: string): void; stop(): void } {
  if (!process.stderr.isTTY) return plainProgress(quiet)
  const bar = new SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | {message}', stream: process.stderr, hideCursor: true },
    Presets.shades_classic
  )
  let started = false
  return {
    update(done, total, message = '') {
      if (quiet) return
      if (!started) {
        bar.start(Math.max(total, 1), done, { message })
        started = true
      }
      bar.setTotal(Math.max(total, 1))
      bar.update(done, { message })
    },
    stop() {
      if (started) bar.stop()
    }
  }
}

function plainProgress(quiet: boolean): ReturnType<typeof progressBar> {
  type Step = { done: number; total: number; message: string }
  let last: Step | null = null
  let printedAt = 0
  let printed: Step | null = null
  const print = () => {
    if (!last || last === printed) return
    const percent = last.total > 0 ? ` (${Math.floor((100 * last.done) / last.total)}%)` : ''
    process.stderr.write(`progress: ${last.done}/${last.total || '?'}${percent}${last.message ? ` ${last.message}` : ''}\n`)
    printed = last
    printedAt = Date.now()
  }
  return {
    update(done, total, message = '') {
      if (quiet) return
      last = { done, total, message }
      if (printed === null || Date.now() - printedAt >= PLAIN_PROGRESS_EVERY_S * 1000) print()
    },
    stop() {
      if (!quiet) print()
    }
  }
}

/**
 * A line on stdout while a progress bar may be drawn: on a terminal the bar's line (on stderr) is cleared
 * first, so that the bar redraws below; escape codes never go to stdout, nor anywhere without a terminal.
 */
export function printLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
  process.stdout.write(`${text}\n`)
}

/** Run `work` with a command-line session, then close it. */
export async function withSession<T>(json: boolean, work: (cli: Cli) => Promise<T>): Promise<T> {
  const { startSession } = await import('../node-host/session')
  const session = startSession('cli')
  const { client } = session
  const cli: Cli = {
    // Checked here first, so that a refusal carries its fields and the command can name its own flags.
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      session.check(method, args)
      return client.call(method, args)
    },
    on: client.on,
    check: session.check,
    async open(dir) {
      await client.call('projects.open', { dir })
    },
    async runJob<K extends JobKind>(start: () => Promise<JobInfo<K>>): Promise<FinishedJob<K>> {
      const bar = progressBar(json)
      let jobId = -1
      const unsubscribe = client.on('job.updated', (job) => {
        if (job.id === jobId) bar.update(job.done, job.total, job.message ?? '')
      })
      const onSigint = () => {
        process.stderr.write('\nCancelling…\n')
        if (jobId >= 0) void client.call('jobs.cancel', { id: jobId })
      }
      process.on('SIGINT', onSigint)
      try {
        const job = await start()
        jobId = job.id
        const finished = await client.call('jobs.wait', { id: job.id })
        bar.stop()
        if (finished.status === 'failed') throw new ApiError('internal', finished.error ?? 'The job failed.')
        if (!jobCompleted(finished.status)) throw new ApiError('cancelled', `${finished.title}: ${finished.status}.`)
        if (finished.kind !== job.kind || finished.result === null) throw new ApiError('internal', `Job ${job.id} finished without a result.`)
        noteProblems(finished.problems.length)
        return finished as FinishedJob<K>
      } finally {
        process.off('SIGINT', onSigint)
        unsubscribe()
      }
    },
    async withFolderProgress(work) {
      const bar = progressBar(json)
      const unsubscribe = client.on('folder.progress', (p) => bar.update(p.done, p.total, p.message))
      try {
        return await work()
      } finally {
        bar.stop()
        unsubscribe()
      }
    }
  }
  try {
    return await work(cli)
  } finally {
    session.dispose()
  }
}
