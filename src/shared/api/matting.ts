// Trimaps and alpha mattes (the workflow's steps 3 and 3b).
import type { TrimapChoice, TrimapSettings } from '../domain'
import type { Job } from './job'

export interface MattingResult {
  made: number
  /** Mattes made by the helper process on the second core (batch matting). */
  byHelper?: number
  problems: { photo: string; reason: string }[]
}

/** The job kinds of this area. */
export interface MattingJobs {
  trimaps: { params: { datasetId: number; settings: TrimapChoice }; result: MattingResult; events: never }
  mattes: { params: { datasetId: number; photoIds?: number[] }; result: MattingResult; events: never }
  cutouts: {
    params: { datasetId: number; dir: string; photoIds?: number[]; colours: 'foreground' | 'photo' }
    result: { written: number; dir: string; skipped: string[] }
    events: never
  }
}

type MattingJob<K extends keyof MattingJobs> = Job<K, MattingJobs[K]['result']>

export interface MattingApi {
  /**
   * A trimap of one photo's mask with these settings, computed now and not stored: the inspector's sliders
   * redraw it live. Returns a PNG data URL and the pixel counts of each class.
   */
  'matting.previewTrimap'(args: { photoId: number } & TrimapChoice): Promise<{
    dataUrl: string
    foreground: number
    unknown: number
    background: number
    /** The values used: in 'auto' mode, those fitted to this photo's leaves. */
    settings: TrimapSettings
    /** Time spent computing, for the curious. */
    ms: number
  }>
  /** Make trimaps for every labelled photo of the dataset with these settings (remembered for the dataset): a job. */
  'matting.makeTrimaps'(args: { datasetId: number } & TrimapChoice): Promise<MattingJob<'trimaps'>>
  /** Alpha mattes by closed-form matting for the dataset's labelled photos, or the chosen ones: a job. */
  'matting.makeMattes'(args: { datasetId: number; photoIds?: number[] }): Promise<MattingJob<'mattes'>>
  /** Cutouts (RGBA PNG with the alpha matte as transparency) written to a folder: a job. */
  'matting.exportCutouts'(args: { datasetId: number; dir: string; photoIds?: number[]; colours: 'foreground' | 'photo' }): Promise<MattingJob<'cutouts'>>
  /** Plain folders, no project: a trimap PNG in `out` for each mask PNG in `masks` (progress: 'folder.progress'). */
  'matting.trimapFolder'(args: { masks: string; out: string } & TrimapChoice): Promise<MattingResult & { out: string }>
  /** Plain folders, no project: alpha mattes (and cutouts) for photos and trimaps matched by name. */
  'matting.matteFolder'(args: {
    images: string
    trimaps: string
    out: string
    cutouts?: string
  }): Promise<MattingResult & { out: string; unmatchedPhotos: string[] }>
}
