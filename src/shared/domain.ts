// Domain types shared by every process. Plain data only: these cross IPC, HTTP and process boundaries.

export interface RecentProject {
  dir: string
  name: string
  openedAt: string
  /** False when the folder is gone or no longer holds a Leafseg project. */
  available: boolean
}

export interface ProjectInfo {
  dir: string
  name: string
  createdAt: string
  schemaVersion: number
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'

export const finishedJobStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted']

export interface JobInfo {
  id: number
  kind: string
  /** A one-line description for people ("Import 120 photos into ‘Vines 2025’"). */
  title: string
  status: JobStatus
  /** Units done and total; total 0 while unknown. */
  done: number
  total: number
  message: string | null
  error: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Seconds left, estimated from the rate so far; null while unknown. */
  etaSeconds: number | null
  /** What the job produced (ids, counts), once it succeeded. */
  result: unknown
}

export interface AppInfo {
  version: string
  /** Which host serves the API: the desktop app or the web host. */
  host: 'electron' | 'web'
  /** Whether the host can show native folder dialogs; the browser cannot. */
  nativeDialogs: boolean
}
