// The app itself: projects and folders the user picks.
import type { AppInfo, CleanReport, ProjectInfo, RecentProject } from '../domain'

export interface FolderListing {
  /** The folder listed (absolute). */
  dir: string
  /** Its parent, or null at the top of the disk. */
  parent: string | null
  /** Names of its sub-folders, sorted. */
  folders: string[]
  /** Names of the image files in it (what a folder of photos or masks would import), sorted. */
  images: string[]
}

export interface AppApi {
  'app.info'(args: Record<string, never>): Promise<AppInfo>
  /** Native folder picker; the answer is also remembered as a folder the user chose. */
  'dialog.pickFolder'(args: { title: string }): Promise<{ path: string | null }>
  /**
   * The web host's folder browser (a browser cannot open a dialog on the server's disk): a folder's sub-folders
   * and image files, hidden ones left out; without `dir`, the home folder.
   */
  'dialog.listFolder'(args: { dir?: string }): Promise<FolderListing>

  'projects.recent'(args: Record<string, never>): Promise<RecentProject[]>
  'projects.create'(args: { dir: string; name: string }): Promise<ProjectInfo>
  'projects.open'(args: { dir: string }): Promise<ProjectInfo>
  'projects.current'(args: Record<string, never>): Promise<ProjectInfo | null>
  'projects.close'(args: Record<string, never>): Promise<void>
  'projects.forget'(args: { dir: string }): Promise<void>
  /**
   * Remove the open project's files that no record uses (deleted datasets, runs and batches, interrupted
   * imports and writes); with dryRun only report what would go. Refused while a job runs.
   */
  'projects.clean'(args: { dryRun?: boolean }): Promise<CleanReport>
}
