// App-wide state: the open project, live jobs, and messages for the person at the screen.
import type { AppInfo, ProjectInfo } from '../../../shared/domain'
import type { JobInfo } from '../../../shared/api/jobs'
import { ApiError } from '../../../shared/errors'
import { client } from './client'
import { forgetTraining, recordTrainingProgress } from './training.svelte'

export interface Notice {
  id: number
  kind: 'error' | 'info'
  text: string
  /** A button on the notice (e.g. "Show problems"). */
  action?: { label: string; run: () => void }
}

export const app = $state({
  info: null as AppInfo | null,
  project: null as ProjectInfo | null,
  jobs: [] as JobInfo[],
  notices: [] as Notice[],
  /** The job whose failed items the problems dialog lists. */
  problemsOf: null as JobInfo | null
})

let nextNotice = 1

/** How long a notice stays: errors longer, to be read; a click dismisses either sooner. */
const NOTICE_SECONDS = { info: 5, error: 20 }

export function notify(kind: Notice['kind'], text: string, action?: Notice['action']): void {
  const id = nextNotice++
  app.notices.push({ id, kind, text, action })
  setTimeout(() => dismiss(id), NOTICE_SECONDS[kind] * 1000)
}

/** Open the dialog that lists a job's failed items and their reasons. */
export function showProblems(job: JobInfo): void {
  app.problemsOf = job
}

export function dismiss(id: number): void {
  app.notices = app.notices.filter((n) => n.id !== id)
}

/** Run an API call; a failure becomes a notice a person can act on instead of an unhandled rejection. */
export async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work()
  } catch (err) {
    notify('error', err instanceof ApiError || err instanceof Error ? err.message : String(err))
    return undefined
  }
}

function upsertJob(job: JobInfo): void {
  const i = app.jobs.findIndex((j) => j.id === job.id)
  if (i >= 0) app.jobs[i] = job
  else app.jobs.unshift(job)
}

export async function start(): Promise<void> {
  client.on('job.updated', (job) => {
    upsertJob(job)
    if (job.status === 'failed') notify('error', `${job.title}: ${job.error ?? 'failed'}`)
    if (job.status === 'done-with-problems') {
      const n = job.problems.length
      notify('error', `${job.title}: done, but ${n} item${n === 1 ? '' : 's'} failed.`, { label: 'Show problems', run: () => showProblems(job) })
    }
  })
  client.on('training.progress', recordTrainingProgress)
  client.on('project.changed', async (project) => {
    // Messages, dialogs and the training form of the project that was open go with it.
    if (project?.dir !== app.project?.dir) {
      forgetTraining()
      app.notices = []
      app.problemsOf = null
    }
    app.project = project
    app.jobs = project ? await client.call('jobs.list', {}) : []
  })
  app.info = (await attempt(() => client.call('app.info', {}))) ?? null
  app.project = (await attempt(() => client.call('projects.current', {}))) ?? null
  if (app.project) app.jobs = (await attempt(() => client.call('jobs.list', {}))) ?? []
}
