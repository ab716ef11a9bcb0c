// The application as one object: state (the open project, its job runner, chosen folders, events) and
// the API, assembled from one module per area. Hosts (Electron, web, CLI) only adapt transport.
import { basename, isAbsolute, resolve } from 'node:path'
import { jobEventNames, type ApiMethod, type EventName, type LeafsegApi } from '../../../shared/api'
import { ApiError } from '../../../shared/errors'
import type { ProjectInfo } from '../../../shared/domain'
import type { Project } from '../project'
import { RecentProjects } from '../recent'
import { JobRunner } from '../jobs/runner'
import { EventHub } from './events'
import { ChosenFolders, isInside, prepareUpload, servableProjectFile } from './paths'
import type { OpenProject, ServiceContext, ServiceOptions } from './context'
import { appMethods } from './app'
import { jobsMethods } from './jobs'
import { datasetMethods } from './datasets'
import { mattingMethods } from './matting'
import { trainingMethods } from './training'
import { evaluationMethods } from './evaluation'
import { predictionMethods } from './prediction'
import { labellingMethods } from './labelling'

export type { ServiceOptions } from './context'

export class LeafsegService implements ServiceContext {
  readonly events = new EventHub()
  readonly chosen = new ChosenFolders()
  readonly recent: RecentProjects
  readonly api: LeafsegApi
  current: OpenProject | undefined

  constructor(readonly options: ServiceOptions) {
    this.recent = new RecentProjects(options.userDataDir)
    this.api = {
      ...appMethods(this),
      ...jobsMethods(this),
      ...datasetMethods(this),
      ...mattingMethods(this),
      ...trainingMethods(this),
      ...evaluationMethods(this),
      ...predictionMethods(this),
      ...labellingMethods(this)
    }
  }

  /** The open project, or a clear error when there is none. */
  requireProject(): OpenProject {
    if (!this.current) throw new ApiError('no_project_open', 'Open or create a project first.')
    return this.current
  }

  checkChosenProjectDir(dir: string): string {
    const abs = resolve(this.checkTyped(dir))
    if (this.options.typedPathsAreChoices || this.recent.has(abs)) return abs
    return this.chosen.check(abs)
  }

  /**
   * A path typed into a web page must be absolute: relative to what? The server's working folder is not the
   * person's (a CSV once went into the checkout). The command line resolves against the shell's, as shells do.
   */
  private checkTyped(path: string): string {
    if (this.options.host === 'web' && !isAbsolute(path))
      throw new ApiError('invalid_argument', `“${path}” is a relative path: give the full path (starting with / or a drive letter), or use Browse… to pick it.`)
    return path
  }

  /** Check that a path named by a renderer is inside the open project or a folder the user chose. */
  checkPath(path: string): string {
    this.checkTyped(path)
    if (this.options.typedPathsAreChoices) return resolve(path)
    return this.chosen.check(path, this.current ? [this.current.project.dir] : [])
  }

  /** A project file a renderer may read (`thumbnails/ab/ab….webp`): the one check every host's file route uses. */
  projectFile(relativePath: string): string {
    return servableProjectFile(this.requireProject().project.dir, relativePath)
  }

  /**
   * Where a file dropped in a browser is stored before import: the browser cannot tell us its path,
   * so the web host receives its bytes into the project's imports/uploads/<batch>/ folder.
   */
  uploadTarget(batch: string, relativePath: string): { dir: string; file: string } {
    return prepareUpload(this.requireProject().project.dir, batch, relativePath)
  }

  /** Progress of work on plain folders (no job row), sent as 'folder.progress' events. */
  folderProgress(method: ApiMethod): (done: number, total: number, message: string) => void {
    return (done, total, message) => this.events.emit('folder.progress', { method, done, total, message })
  }

  /** How a job title names the folders or files it works on ("dropped photos" for a browser drop). */
  describePaths(paths: string[]): string {
    const uploads = this.current?.project.path('imports', 'uploads')
    if (uploads && paths.every((p) => isInside(p, uploads))) return 'dropped photos'
    return paths.length === 1 ? basename(paths[0]) : `${paths.length} folders and files`
  }

  activate(project: Project): ProjectInfo {
    this.closeProject()
    const jobs = new JobRunner(
      project,
      this.options.jobProcess,
      (job) => this.events.emit('job.updated', job),
      (name, payload) => {
        if ((jobEventNames as readonly string[]).includes(name)) this.events.emit(name as EventName, payload as never)
      }
    )
    this.current = { project, jobs }
    const info = project.info()
    this.recent.remember(info.dir, info.name)
    this.events.emit('project.changed', info)
    return info
  }

  closeProject(): void {
    if (!this.current) return
    this.current.jobs.dispose()
    this.current.project.close()
    this.current = undefined
    this.events.emit('project.changed', null)
  }

  /** Close the project and stop the job process (host shutdown). */
  dispose(): void {
    this.closeProject()
  }
}
