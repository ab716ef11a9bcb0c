// API area: the app itself — projects and folders the user picks.
import { z } from 'zod'
import type { AppApi } from '../../../shared/api/app'
import { ApiError } from '../../../shared/errors'
import { appVersion } from '../../../shared/version'
import { createProject, openProject } from '../project'
import { cleanProject } from '../store/clean'
import { homedir } from 'node:os'
import { listFolder } from './folder-listing'
import type { Methods, Schemas } from './area'
import { filePath, none } from './schema-parts'
import type { ServiceContext } from './context'

type K = keyof AppApi

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
  'projects.clean': z.object({ dryRun: z.boolean().optional() }).strict()
}

export function appMethods(s: ServiceContext): Methods<K> {
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
      if (s.options.host !== 'web') throw new ApiError('invalid_argument', "The folder browser is the web host's: this host has its own folder dialog.")
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
    }
  }
}
