// What an API area needs of the service: the open project, the checks on paths, events. A leaf module, so the
// areas depend on this interface and service.ts (which assembles them) on the areas, never the reverse.
import type { ApiMethod } from '../../../shared/api'
import type { AppInfo, ProjectInfo } from '../../../shared/domain'
import type { Project } from '../project'
import type { RecentProjects } from '../recent'
import type { JobRunner } from '../jobs/runner'
import type { JobProcessFactory } from '../jobs/protocol'
import type { EventHub } from './events'
import type { ChosenFolders } from './paths'

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
  /** Offer the test job that only counts (development and tests; never in a packaged app). */
  demoJob?: boolean
}

export interface OpenProject {
  project: Project
  jobs: JobRunner
}

export interface ServiceContext {
  readonly options: ServiceOptions
  readonly events: EventHub
  readonly chosen: ChosenFolders
  readonly recent: RecentProjects
  readonly current: OpenProject | undefined
  /** The open project, or a clear error when there is none. */
  requireProject(): OpenProject
  /** A project folder the user chose (a dialog, the recent list, or typed where typing is choosing). */
  checkChosenProjectDir(dir: string): string
  /** A path named by a renderer, checked to be inside the open project or a folder the user chose. */
  checkPath(path: string): string
  /** Progress of work on plain folders (no job row), sent as 'folder.progress' events. */
  folderProgress(method: ApiMethod): (done: number, total: number, message: string) => void
  /** How a job title names the folders or files it works on. */
  describePaths(paths: string[]): string
  activate(project: Project): ProjectInfo
  closeProject(): void
}
