// The application as one object: implements every API method over the core modules.
// Hosts (Electron, web, CLI) only adapt transport; no domain logic lives in them.
import { resolve } from 'node:path'
import type { ApiArgs, LeafsegApi } from '../../../shared/api'
import { ApiError } from '../../../shared/errors'
import type { AppInfo, JobInfo, ProjectInfo, RecentProject } from '../../../shared/domain'
import { appVersion } from '../../../shared/version'
import { createProject, openProject, type Project } from '../project'
import { RecentProjects } from '../recent'
import { JobRunner } from '../jobs/runner'
import type { JobProcessFactory } from '../jobs/protocol'
import { EventHub } from './events'
import { ChosenFolders } from './paths'

export interface ServiceOptions {
  host: AppInfo['host']
  /** Where per-user state (recent projects) lives. */
  userDataDir: string
  jobProcess: JobProcessFactory
  /** A native folder dialog, where the host has one. */
  pickFolder?: (title: string) => Promise<string | null>
  /**
   * In the web host the browser cannot open a native dialog: a path typed there is the user's choice.
   * In Electron, project folders must come from a dialog or the recent list.
   */
  typedPathsAreChoices: boolean
}

export class LeafsegService implements LeafsegApi {
  readonly events = new EventHub()
  readonly chosen = new ChosenFolders()
  private readonly recent: RecentProjects
  private open: { project: Project; jobs: JobRunner } | undefined

  constructor(private readonly options: ServiceOptions) {
    this.recent = new RecentProjects(options.userDataDir)
  }

  /** The open project, or a clear error when there is none. */
  requireProject(): { project: Project; jobs: JobRunner } {
    if (!this.open) throw new ApiError('no_project_open', 'Open or create a project first.')
    return this.open
  }

  private checkChosenProjectDir(dir: string): string {
    const abs = resolve(dir)
    if (this.options.typedPathsAreChoices || this.recent.has(abs)) return abs
    return this.chosen.check(abs)
  }

  private activate(project: Project): ProjectInfo {
    this.close()
    const jobs = new JobRunner(project, this.options.jobProcess, (job) => this.events.emit('job.updated', job))
    this.open = { project, jobs }
    const info = project.info()
    this.recent.remember(info.dir, info.name)
    this.events.emit('project.changed', info)
    return info
  }

  private close(): void {
    if (!this.open) return
    this.open.jobs.dispose()
    this.open.project.close()
    this.open = undefined
  }

  async 'app.info'(): Promise<AppInfo> {
    return { version: appVersion, host: this.options.host, nativeDialogs: Boolean(this.options.pickFolder) }
  }

  async 'dialog.pickFolder'(args: ApiArgs<'dialog.pickFolder'>): Promise<{ path: string | null }> {
    if (!this.options.pickFolder) throw new ApiError('invalid_argument', 'This host has no folder dialog: type the folder path instead.')
    const path = await this.options.pickFolder(args.title)
    if (path) this.chosen.add(path)
    return { path }
  }

  async 'projects.recent'(): Promise<RecentProject[]> {
    return this.recent.list()
  }

  async 'projects.create'(args: ApiArgs<'projects.create'>): Promise<ProjectInfo> {
    return this.activate(createProject(this.checkChosenProjectDir(args.dir), args.name))
  }

  async 'projects.open'(args: ApiArgs<'projects.open'>): Promise<ProjectInfo> {
    return this.activate(openProject(this.checkChosenProjectDir(args.dir)))
  }

  async 'projects.current'(): Promise<ProjectInfo | null> {
    return this.open ? this.open.project.info() : null
  }

  async 'projects.close'(): Promise<void> {
    this.close()
    this.events.emit('project.changed', null)
  }

  async 'projects.forget'(args: ApiArgs<'projects.forget'>): Promise<void> {
    this.recent.forget(args.dir)
  }

  async 'jobs.list'(): Promise<JobInfo[]> {
    return this.open ? this.open.jobs.list() : []
  }

  async 'jobs.cancel'(args: ApiArgs<'jobs.cancel'>): Promise<JobInfo> {
    return this.requireProject().jobs.cancel(args.id)
  }

  async 'jobs.startDemo'(args: ApiArgs<'jobs.startDemo'>): Promise<JobInfo> {
    return this.requireProject().jobs.start('demo', `Demo job (${args.steps} steps)`, args)
  }

  /** Close the project and stop the job process (host shutdown). */
  dispose(): void {
    this.close()
  }
}
