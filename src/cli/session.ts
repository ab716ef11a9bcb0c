// A CLI session: the same service as the app, jobs run in this process, progress drawn on stderr.
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SingleBar, Presets } from 'cli-progress'
import { ApiError } from '../shared/errors'
import type { JobInfo } from '../shared/domain'
import { LeafsegService } from '../main/core/service/service'
import { inProcessJobs, forkJobProcess } from '../main/core/jobs/node-process'

export function userDataDir(): string {
  return process.env.LEAFSEG_USER_DATA ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'leafseg')
}

/** Jobs of the CLI's own commands run in-process; the web host forks a job process so requests stay responsive. */
export function createNodeService(mode: 'cli' | 'web'): LeafsegService {
  return new LeafsegService({
    host: 'web',
    userDataDir: userDataDir(),
    jobProcess: mode === 'cli' ? inProcessJobs : forkJobProcess,
    typedPathsAreChoices: true
  })
}

/** A progress bar on stderr (none with --json, or when stderr is not a terminal). */
export function progressBar(quiet: boolean): { update(done: number, total: number, message?: string): void; stop(): void } {
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

/**
 * Start a job through the service, draw its progress bar on stderr (unless --json), and wait for it.
 * Ctrl-C cancels the job cleanly. A failed or cancelled job becomes an ApiError.
 */
export async function runJob(service: LeafsegService, start: () => Promise<JobInfo>, quiet: boolean): Promise<JobInfo> {
  const bar = progressBar(quiet)
  let jobId = -1
  const unsubscribe = service.events.subscribe((event, payload) => {
    if (event !== 'job.updated') return
    const job = payload as JobInfo
    if (job.id === jobId) bar.update(job.done, job.total, job.message ?? '')
  })
  const job = await start()
  jobId = job.id
  const onSigint = () => {
    process.stderr.write('\nCancelling…\n')
    void service.api['jobs.cancel']({ id: job.id })
  }
  process.on('SIGINT', onSigint)
  try {
    const finished = await service.requireProject().jobs.wait(job.id)
    bar.stop()
    if (finished.status === 'failed') throw new ApiError('internal', finished.error ?? 'The job failed.')
    if (finished.status === 'cancelled') throw new ApiError('cancelled', `${finished.title}: cancelled.`)
    return finished
  } finally {
    process.off('SIGINT', onSigint)
    unsubscribe()
  }
}
