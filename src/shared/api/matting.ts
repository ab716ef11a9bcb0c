// Trimaps and alpha mattes (the workflow's steps 3 and 3b).
import type { JobInfo, TrimapSettings } from '../domain'

export interface MattingApi {
  /**
   * A trimap of one photo's mask with these settings, computed now and not stored: the inspector's sliders
   * redraw it live. Returns a PNG data URL and the pixel counts of each class.
   */
  'matting.previewTrimap'(args: { photoId: number } & TrimapSettings): Promise<{
    dataUrl: string
    foreground: number
    unknown: number
    background: number
    /** Time spent computing, for the curious. */
    ms: number
  }>
  /** Make trimaps for every labelled photo of the dataset with these settings (remembered for the dataset): a job. */
  'matting.makeTrimaps'(args: { datasetId: number } & TrimapSettings): Promise<JobInfo>
  /** Alpha mattes by closed-form matting for the dataset's labelled photos, or the chosen ones: a job. */
  'matting.makeMattes'(args: { datasetId: number; photoIds?: number[] }): Promise<JobInfo>
  /** Cutouts (RGBA PNG with the alpha matte as transparency) written to a folder: a job. */
  'matting.exportCutouts'(args: { datasetId: number; dir: string; photoIds?: number[]; colours: 'foreground' | 'photo' }): Promise<JobInfo>
}
