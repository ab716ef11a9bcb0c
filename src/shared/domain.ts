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
  /** True when the project could only be opened to be looked at (a full or read-only disk); changes are refused. */
  readOnly: boolean
  /** Why it is read-only, for people; null when it is not. */
  readOnlyReason: string | null
}

/** What "Clean up project" removed (or, in a dry run, would remove). */
export interface CleanReport {
  dryRun: boolean
  /** Files removed (folders count their files). */
  files: number
  bytes: number
  /** Project-relative paths (folders end in '/') with why each could go. */
  items: { path: string; why: string; files: number; bytes: number }[]
}

/** 'done-with-problems': the job ran to the end but some of its items failed (listed in JobInfo.problems). */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'done-with-problems' | 'failed' | 'cancelled' | 'interrupted'

export const finishedJobStatuses: readonly JobStatus[] = ['succeeded', 'done-with-problems', 'failed', 'cancelled', 'interrupted']

/** The job ran to the end and has its result (some items may have failed). */
export function jobCompleted(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'done-with-problems'
}

export interface AppInfo {
  version: string
  /** Which host serves the API: the desktop app, the web host or the command line. */
  host: 'electron' | 'web' | 'cli'
  /** Whether the host can show native folder dialogs; the browser cannot. */
  nativeDialogs: boolean
  /** Whether the test job that only counts may be started (development and tests). */
  demoJob: boolean
}

export type Split = 'train' | 'val' | 'test'

export interface DatasetSummary {
  id: number
  name: string
  createdAt: string
  photos: number
  /** Photos that have a mask. */
  labelled: number
  splits: Record<Split | 'none', number>
  /** Import problems recorded for this dataset (files that could not be used). */
  problems: number
  /** Scale for leaf areas in mm²; null until the user sets it. */
  pxPerMm: number | null
  /** The trimap settings last applied to this dataset. */
  trimap: TrimapChoice
}

/** Trimap settings (the workflow's step 3): erode/dilate a mask by a k×k square, so many times each. */
export interface TrimapSettings {
  kernelSize: number
  fgIterations: number
  bgIterations: number
}

/** 'auto': a 3×3 kernel and iterations fitted to each photo's leaves (their thickness); 'fixed': the same values for every photo. */
export type TrimapMode = 'auto' | 'fixed'
export type TrimapChoice = { mode: 'auto' } | ({ mode: 'fixed' } & TrimapSettings)

/** Where a mask's file came from: an import (folder, Labelbox, COCO), the editor ('drawn') or a run ('predicted'). */
export type MaskSource = 'folder' | 'labelbox' | 'coco' | 'drawn' | 'predicted'

/**
 * Who made a mask: imported from elsewhere, drawn in the editor, proposed by an assist and accepted, made by a
 * run (pre-labelling, accepted predictions), or made by a run and then edited by a person.
 */
export type MaskMadeBy = 'imported' | 'drawn' | 'assisted' | 'model-made' | 'model-corrected'
export const maskMadeByValues: readonly MaskMadeBy[] = ['imported', 'drawn', 'assisted', 'model-made', 'model-corrected']

export interface PhotoSummary {
  id: number
  name: string
  width: number
  height: number
  split: Split | null
  hasMask: boolean
  /** Project-relative path of the binary mask, and when it last changed (a thumbnail's overlay; the URL's version). */
  maskFile: string | null
  maskUpdatedAt: string | null
  /** Leaves in the mask's instances; null when the photo has no mask or its mask has no instances. */
  leaves: number | null
  /** Project-relative path of the thumbnail (turn it into a URL with the client's fileUrl). */
  thumbnail: string
  importedAt: string
}

export interface PhotoDetail extends PhotoSummary {
  datasetId: number
  /** Project-relative path of the photo file. */
  file: string
  hash: string
  bytes: number
  sourcePath: string | null
  mask: {
    file: string
    /**
     * Project-relative path of the leaf instances, when the mask has them: a one-channel 8-bit PNG, 0 = background,
     * 1..leaves = each leaf (see core/datasets/instances.ts).
     */
    instancesFile: string | null
    /** Leaves in instancesFile; null without one. */
    leaves: number | null
    source: MaskSource
    madeBy: MaskMadeBy
    /** The run whose prediction made it (pre-labelling): the model assist can start from that prediction. */
    madeByRun: number | null
    /** sha256 of the binary mask's pixels: what trimaps, mattes and training snapshots were made from. */
    hash: string
    foreground: number
    /** True while a model made it and no person has confirmed or edited it. */
    modelMade: boolean
    updatedAt: string
    /** 1 for the photo's first mask, one more for each save since: a save names the version it replaces. */
    version: number
  } | null
  /** Stale when the mask changed after it was made. */
  trimap: (TrimapSettings & { file: string; stale: boolean; createdAt: string }) | null
  matte: (TrimapSettings & { file: string; cutoutFile: string | null; stale: boolean; createdAt: string }) | null
}

export interface ImportProblem {
  id: number
  path: string
  reason: string
  createdAt: string
}

export type PhotoFilter = {
  labelled?: boolean
  split?: Split | 'none'
  search?: string
}
