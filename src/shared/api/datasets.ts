// Datasets: photos imported into named sets, their masks, splits and problems.
import type { Job } from './job'
import type { DatasetSummary, ImportProblem, PhotoDetail, PhotoFilter, PhotoSummary, Split } from '../domain'

export type MaskImportSource =
  | {
      kind: 'folder'
      dir: string
      /** More suffixes after the photo's stem that mark a mask, besides the usual ones (_mask, _fg, _label, -mask, …). */
      moreSuffixes?: string[]
      /** Gray masks: leaf where value ≥ threshold (0–255, default 128). */
      threshold?: number
    }
  | { kind: 'labelbox'; file: string; apiKey: string }
  | { kind: 'coco'; file: string }

export interface ImportPhotosResult {
  imported: number
  duplicates: { path: string; sameAs: string }[]
  problems: { path: string; reason: string }[]
  /** Files skipped because they are neither images nor named like images. */
  ignored: number
}

export interface ImportMasksResult {
  masks: number
  unmatchedMasks: { path: string; reason: string }[]
  unmatchedPhotos: string[]
  problems: { path: string; reason: string }[]
}

/** The mask source as stored with the job: the Labelbox API key travels separately, as a secret. */
export type MaskJobSource = Exclude<MaskImportSource, { kind: 'labelbox' }> | { kind: 'labelbox'; file: string }

/** The job kinds of this area. */
export interface DatasetJobs {
  'import-photos': { params: { datasetId: number; paths: string[] }; result: ImportPhotosResult; events: never }
  'import-masks': { params: { datasetId: number; source: MaskJobSource }; result: ImportMasksResult; events: never }
  'export-masks': { params: { datasetId: number; dir: string; format: 'png' | 'coco' }; result: { written: number; path: string }; events: never }
}

type DatasetJob<K extends keyof DatasetJobs> = Job<K, DatasetJobs[K]['result']>

export interface DatasetsApi {
  'datasets.list'(args: Record<string, never>): Promise<DatasetSummary[]>
  'datasets.create'(args: { name: string }): Promise<DatasetSummary>
  /** The dataset with this name (case and surrounding spaces ignored); not_found names it. */
  'datasets.findByName'(args: { name: string }): Promise<DatasetSummary>
  'datasets.update'(args: { id: number; name?: string; pxPerMm?: number | null }): Promise<DatasetSummary>
  'datasets.delete'(args: { id: number }): Promise<void>
  /** A page of photos, filtered and sorted, for the virtualized grid. */
  'datasets.photos'(args: {
    datasetId: number
    offset: number
    limit: number
    filter: PhotoFilter
    sort: 'name' | 'date'
  }): Promise<{ total: number; photos: PhotoSummary[] }>
  'datasets.problems'(args: { datasetId: number }): Promise<ImportProblem[]>
  /** Import photos from folders (walked recursively) and loose files: a job. */
  'datasets.importPhotos'(args: { datasetId: number; paths: string[] }): Promise<DatasetJob<'import-photos'>>
  'datasets.importMasks'(args: { datasetId: number; source: MaskImportSource }): Promise<DatasetJob<'import-masks'>>
  'datasets.exportMasks'(args: { datasetId: number; dir: string; format: 'png' | 'coco' }): Promise<DatasetJob<'export-masks'>>
  /**
   * Assign splits at random by ratio (seeded, reproducible), set one split for chosen photos, or name the
   * validation and test photos (file names or stems; every other photo is training, and none may be in both).
   */
  'datasets.split'(
    args:
      | { datasetId: number; ratio: [number, number, number]; seed: number }
      | { datasetId: number; photoIds: number[]; split: Split | null }
      | { datasetId: number; val: string[]; test: string[] }
  ): Promise<DatasetSummary>

  'photos.get'(args: { id: number }): Promise<PhotoDetail>
  /** The neighbour of a photo in the grid's current order and filter (arrow keys in the inspector). */
  'photos.neighbour'(args: { id: number; direction: 1 | -1; filter: PhotoFilter; sort: 'name' | 'date' }): Promise<{ id: number | null }>

  /** Paths the user dropped on the window (desktop app): remembered as folders the user chose. */
  'files.dropped'(args: { paths: string[] }): Promise<void>
}
