// API area: the app itself — projects, folders the user picks, jobs.
import { z } from 'zod'
import type { AppApi } from '../../../shared/api/app'
import { ApiError } from '../../../shared/errors'
import { appVersion } from '../../../shared/version'
import { maxIdsPerCall, type Bound } from '../../../shared/bounds'
import { createProject, openProject } from '../project'
import { cleanProject } from '../store/clean'
import { homedir } from 'node:os'
import { listFolder } from './folder-listing'
import type { Methods, Schemas } from './area'
import type { LeafsegService } from './service'

type K = keyof AppApi

const none = z.object({}).strict()
export const filePath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'a path cannot contain NUL')
export const id = z.number().int().positive()
/** A number within a bound of src/shared/bounds.ts; `whole` for counts. */
export const within = (b: Bound) => z.number().min(b.min).max(b.max)
export const whole = (b: Bound) => within(b).int()
/** At most maxIdsPerCall ids. */
export const ids = z.array(id).min(1).max(maxIdsPerCall)

export const appSchemas: Schemas<K> = {
  'app.info': none,
  'dialog.pickFolder': z.object({ title: z.string().max(200) }).strict(),
  'dialog.listFolder': z.object({ dir: filePath.optional() }).strict(),
  'projects.recent': none,
  'projects.create': z.object({ dir: filePath, name: z.string().trim().min(1).max(200) }).strict(),
  'projects.open': z.object({ dir: filePath }).strict(),
  'projects.current': none,
  'projects.close': none,
  'projects.forget': z.object({ dir: filePath }).strict(),
  'projects.clean': z.object({ dryRun: z.boolean().optional() }).strict(),
  'jobs.list': none,
  'jobs.cancel': z.object({ id }).strict(),
  'jobs.clear': none,
  'jobs.wait': z.object({ id }).strict(),
  'jobs.startDemo': z
    .object({ steps: z.number().int().min(1).max(100_000), stepMs: z.number().int().min(0).max(60_000), failAt: z.number().int().min(0).optional() })
    .strict()
}

export function appMethods(s: LeafsegService): Methods<K> {
  return {
    async 'app.info'() {
      return { version: appVersion, host: s.options.host, nativeDialogs: Boolean(s.options.pickFolder), demoJob: Boolean(s.options.demoJob) }
    },
    async 'dialog.pickFolder'({ title }) {
      if (!s.options.pickFolder) throw new ApiError('invalid_argument', 'This host has no folder dialog: type the folder path instead.')
      const path = await s.options.pickFolder(title)
      if (path) s.chosen.add(path)
      return { path }
    },
    async 'dialog.listFolder'({ dir }) {
      if (s.options.host !== 'web') throw new ApiError('invalid_argument', 'The folder browser is the web host\'s: this host has its own folder dialog.')
      return listFolder(dir === undefined ? homedir() : s.checkPath(dir))
    },
    async 'projects.recent'() {
      return s.recent.list()
    },
    async 'projects.create'({ dir, name }) {
      return s.activate(createProject(s.checkChosenProjectDir(dir), name))
    },
    async 'projects.open'({ dir }) {
      return s.activate(openProject(s.checkChosenProjectDir(dir)))
    },
    async 'projects.current'() {
      return s.current?.project.info() ?? null
    },
    async 'projects.close'() {
      s.closeProject()
    },
    async 'projects.forget'({ dir }) {
      s.recent.forget(dir)
    },
    async 'projects.clean'({ dryRun }) {
      const { project, jobs } = s.requireProject()
      // A running job writes files its records do not name yet: wait for it.
      const running = jobs.list().filter((j) => j.status === 'running' || j.status === 'queued')
      if (running.length) throw new ApiError('conflict', `Wait for “${running[0].title}” to finish (or cancel it) before cleaning up the project.`)
      return cleanProject(project, { dryRun })
    },
    async 'jobs.list'() {
      return s.current?.jobs.list() ?? []
    },
    async 'jobs.cancel'({ id }) {
      return s.requireProject().jobs.cancel(id)
    },
    async 'jobs.clear'() {
      const { jobs } = s.requireProject()
      jobs.clear()
      return jobs.list()
    },
    async 'jobs.wait'({ id }) {
      return s.requireProject().jobs.wait(id)
    },
    async 'jobs.startDemo'(args) {
      if (!s.options.demoJob) throw new ApiError('not_found', 'The test job exists only in development and tests.')
      return s.requireProject().jobs.start('demo', `Test job (${args.steps} steps)`, args)
    }
  }
}
