// Prediction: a run's masks for new photos at full resolution, their leaf measurements and traits, batches that
// resume, shards for a cluster, and the ONNX export that carries a run to other tools.
import type { Job } from './job'
import type { JobStatus, TrimapChoice } from '../domain'

/** A photo's leaf figures, measured from its mask (leaves: 8-connected components of at least a minimum area). */
export interface LeafFigures {
  width: number
  height: number
  /** Leaf area: the pixels of all counted leaves. */
  areaPx: number
  /** areaPx / pixelsPerMm², or null without a scale. */
  areaMm2: number | null
  /** areaPx / (width × height). */
  foregroundFraction: number
  leafCount: number
}

export interface PredictedPhoto extends LeafFigures {
  id: number
  name: string
  /** Project-relative files: the photo (or its copy), the mask at the batch's threshold, probabilities, cutout. */
  photoFile: string | null
  maskFile: string
  probabilityFile: string
  cutoutFile: string | null
  /**
   * A run that separates leaves: the leaves it separated at the batch's threshold, a PNG of leaf ids (0 = background,
   * 1..n; leafCount counts those of at least the minimum area); null for other runs, or above 255 leaves.
   */
  leavesFile: string | null
  /** The dataset photo it was predicted for (dataset batches); null for a folder. */
  photoId: number | null
  /** Whether it was accepted as the photo's label. */
  accepted: boolean
}

export interface PredictionBatch {
  id: number
  runId: number
  runName: string
  checkpoint: 'best' | 'last'
  source: 'folder' | 'dataset'
  sourceName: string
  threshold: number
  minLeafAreaPx: number
  pxPerMm: number | null
  /** Its run separates leaves: leaf counts and per-leaf traits are of leaves, not of connected regions. */
  separatesLeaves: boolean
  createdAt: string
  photos: number
  /** Files in its source when its last job started (copies of one photo count apart; null for older batches). */
  total: number | null
  /** Photos that failed in its last job (listed by predictions.problems). */
  problems: number
  /** Its last job's status: 'cancelled', 'failed' or 'interrupted' batches can be resumed. */
  status: JobStatus | null
  /** Its last job stopped before the end, or some photos failed: predictions.resume continues it (or retries them). */
  canResume: boolean
}

/** Shape and colour traits of a leaf, or of all a photo's leaves (formulas in prediction/traits.ts and the README). */
export interface Traits {
  areaPx: number
  perimeterPx: number
  convexHullAreaPx: number
  solidity: number | null
  bboxWidthPx: number
  bboxHeightPx: number
  ellipseMajorPx: number
  ellipseMinorPx: number
  eccentricity: number
  /** In mm and mm² with a scale; null without. */
  areaMm2: number | null
  perimeterMm: number | null
  convexHullAreaMm2: number | null
  ellipseMajorMm: number | null
  ellipseMinorMm: number | null
  meanR: number
  meanG: number
  meanB: number
  hueCircularMean: number | null
  exg: number | null
  gli: number | null
  vari: number | null
}

export interface LeafTraits extends Traits {
  /** 1 = the largest leaf of its photo. */
  leaf: number
  /** Centroid, in pixels. */
  centroidX: number
  centroidY: number
}

/** One photo's leaf measurements: a row of the measurement CSV (columns in prediction/csv.ts). */
export interface MeasurementRow extends LeafFigures {
  /** Traits of all its leaves together (predicted photos); null or absent where not measured. */
  traits?: Traits | null
  photo: string
  minLeafAreaPx: number
  noisePx: number
  scalePxPerMm: number | null
  source: 'predicted' | 'labelled'
  runId: string | null
  threshold: number | null
  /** leafCount counts leaves told apart by a run that separates leaves; otherwise connected regions of the mask. */
  leavesSeparated: boolean
}

export interface MeasurementSettings {
  minLeafAreaPx: number
  pxPerMm: number | null
}

export interface PredictionRequest {
  runId: number
  checkpoint: 'best' | 'last'
  source: { kind: 'folder'; dir: string } | { kind: 'dataset'; datasetId: number }
  threshold: number
  cutouts: boolean
  /** The trimaps that cutouts are matted through: default the dataset's settings (a folder: fitted to the leaves). */
  trimap?: TrimapChoice
  measure: MeasurementSettings
}

/** A model folder (model.json + weights.bin) applied to a folder of photos, without a project's run. */
export interface FolderPrediction {
  model: string
  /** The photos: a folder (walked), or `list`, a file naming one photo per line; exactly one of the two. */
  images?: string
  list?: string
  /** Only the index-th (1-based) of `count` equal parts of the photos sorted by path; a manifest goes into `out`. */
  shard?: { index: number; count: number }
  /** Where the masks go: one PNG per photo, named like it. */
  out: string
  /** Where the measurements go, as CSV (optional). */
  csv?: string
  /** Replace an existing CSV (refused without). */
  overwrite?: boolean
  threshold: number
  measure: MeasurementSettings
}

/** A batch's traits: per photo (all its leaves together) and per leaf. */
export interface BatchTraits {
  photos: { id: number; name: string; traits: Traits | null; leaves: LeafTraits[] }[]
}

/** What merging shards' outputs found. */
export interface ShardMerge {
  csv: string
  rows: number
  /** Shards found, of how many the run had. */
  shards: number
  of: number
  missingShards: number[]
  /** Shards given twice (their photos count once). */
  duplicateShards: number[]
  /** Photos predicted in more than one shard (kept once). */
  duplicatePhotos: string[]
  /** Photos a shard had but did not predict, with the reason. */
  missingPhotos: { path: string; reason: string }[]
}

type Problems = { path: string; reason: string }[]

/** The job kinds of this area. */
export interface PredictionJobs {
  predict: {
    params: PredictionRequest & { batchId: number }
    /** photos: predicted by this job; skipped: already in the batch (a resumed batch). */
    result: { batchId: number; photos: number; skipped: number; problems: Problems; /** What predicted ('onnxruntime (CPU, 16 threads)'). */ engine: string }
    events: never
  }
  measure: { params: { datasetId: number; file: string; measure: MeasurementSettings }; result: { file: string; rows: number }; events: never }
  'export-onnx': { params: { runId: number; checkpoint: 'best' | 'last'; file: string }; result: { file: string; bytes: number }; events: never }
}

type PredictionJob<K extends keyof PredictionJobs> = Job<K, PredictionJobs[K]['result']>

export interface PredictionApi {
  /**
   * Write a run's checkpoint as an ONNX file (input 'image' [batch, height, width, 3] RGB 0..1, output 'mask'
   * [batch, height, width, 1] leaf probabilities), for onnxruntime, Python or any ONNX tool: a job.
   */
  'runs.exportOnnx'(args: {
    runId: number
    checkpoint: 'best' | 'last'
    file: string
    /** Replace an existing file (refused without). */ overwrite?: boolean
  }): Promise<PredictionJob<'export-onnx'>>

  /** Predict masks for a folder of photos, or a dataset's photos, at full resolution: a job. */
  'predictions.start'(args: PredictionRequest): Promise<PredictionJob<'predict'>>
  'predictions.list'(args: Record<string, never>): Promise<PredictionBatch[]>
  'predictions.photos'(args: { batchId: number }): Promise<PredictedPhoto[]>
  /** Shape and colour traits of the batch's photos and of each of their leaves. */
  'predictions.traits'(args: { batchId: number }): Promise<BatchTraits>
  /** The photos that failed in the batch's last job, each with its reason. */
  'predictions.problems'(args: { batchId: number }): Promise<{ path: string; reason: string }[]>
  /**
   * Continue a batch that was cancelled, failed or stopped, or retry its failed photos: a job with the batch's own
   * settings that skips the photos it already has (by content hash).
   */
  'predictions.resume'(args: { batchId: number }): Promise<PredictionJob<'predict'>>
  /** Write the batch's measurements as CSV (one row per photo, with the run and settings), and its leaves beside it. */
  'predictions.exportCsv'(args: {
    batchId: number
    file: string
    overwrite?: boolean
  }): Promise<{ file: string; rows: number; leavesFile: string; leaves: number }>
  /** The batch's measurements, one row per photo (what exportCsv writes). */
  'predictions.measurements'(args: { batchId: number }): Promise<MeasurementRow[]>
  /** Copy the batch's masks (and cutouts) into a folder, named like the photos. */
  'predictions.exportMasks'(args: { batchId: number; dir: string }): Promise<{ written: number; dir: string }>
  /**
   * A model folder applied to a folder of photos, without a project: masks (and measurements as CSV) written
   * to `out`. Runs in the caller's process (the command line); progress comes as 'folder.progress' events.
   */
  'predictions.fromModel'(args: FolderPrediction): Promise<{
    masks: number
    out: string
    csv: string | null
    problems: { path: string; reason: string }[]
    measurements: MeasurementRow[]
    engine: string
    /** With a shard: which, and how many photos it had. */
    shard: { index: number; count: number; photos: number } | null
  }>
  /** Join the outputs of `predictions.fromModel` shards into one CSV, reporting missing and duplicate photos. */
  'predictions.mergeShards'(args: { dirs: string[]; csv: string; overwrite?: boolean }): Promise<ShardMerge>
  /**
   * Use predicted masks as the photos' labels (dataset batches), marked model-made until confirmed. Photos with a
   * hand-made or confirmed mask keep it (listed in `kept`).
   */
  'predictions.accept'(args: { batchId: number; photoIds?: number[] }): Promise<{ accepted: number; kept: string[] }>
  /** Delete a batch: its records and its files (accepted masks were copied into the dataset and stay). */
  'predictions.delete'(args: { batchId: number }): Promise<{ files: number; bytes: number }>
  /** Leaf area, fraction and count for a dataset's labelled masks, written as CSV: a job. */
  'measurements.labelled'(args: { datasetId: number; file: string; measure: MeasurementSettings; overwrite?: boolean }): Promise<PredictionJob<'measure'>>
}
