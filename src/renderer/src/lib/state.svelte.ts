// App-wide state: the open project, live jobs, and messages for the person at the screen.
import type { AppInfo, JobInfo, ProjectInfo } from '../../../shared/domain'
import { ApiError } from '../../../shared/errors'
import { client } from './client'
import { forgetTraining, recordTrainingProgress } from './training.svelte'

export interface Notice {
  id: number
  kind: 'error' | 'info'
  text: string
}

export const app = $state({
  info: null as AppInfo | null,
  project: null as ProjectInfo | null,
  jobs: [] as JobInfo[],
  notices: [] as Notice[]
})

let nextNotice = 1

export function notify(kind: Notice['kind'], text: string): void {
  const id = nextNotice++
  app.notices.push({ id, kind, text })
  if (kind === 'info') setTimeout(() => dismiss(id), 5000)
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
  })
  client.on('training.progress', recordTrainingProgress)
  client.on('project.changed', async (project) => {
    if (project?.dir !== app.project?.dir) forgetTraining()
    app.project = project
    app.jobs = project ? await client.call('jobs.list', {}) : []
  })
  app.info = (await attempt(() => client.call('app.info', {}))) ?? null
  app.project = (await attempt(() => client.call('projects.current', {}))) ?? null
  if (app.project) app.jobs = (await attempt(() => client.call('jobs.list', {}))) ?? []
}
