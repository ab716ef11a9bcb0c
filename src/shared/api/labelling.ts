// Labelling inside Leafseg: masks proposed from a box and clicks (GrabCut, or a run's prediction corrected by
// GrabCut), and masks saved as a person made them. Masks travel as COCO uncompressed RLE (see ../rle.ts).
import type { MaskMadeBy, PhotoDetail } from '../domain'
import type { Job } from './job'
import type { Rle } from '../rle'

/** A click on the photo, in photo pixels: on a missed leaf (leaf: true) or on a false one (leaf: false). */
export interface AssistClick {
  x: number
  y: number
  leaf: boolean
}

/** A box in photo pixels: the leaves to find are inside it. */
export interface AssistBox {
  x: number
  y: number
  width: number
  height: number
}

/** How a person made the mask being saved; with what was there before it decides the mask's `madeBy`. */
export type SaveHow = 'drawn' | 'assisted'

/** The job kinds of this area. */
export interface LabellingJobs {
  /** A run predicts a dataset's photos without a person's mask; each becomes a model-made mask to review. */
  prelabel: {
    params: { datasetId: number; runId: number }
    result: { labelled: number; kept: number; problems: { path: string; reason: string }[] }
    events: never
  }
  /** A run's prediction of one photo, for the model assist on a photo it did not pre-label (kept in the run's folder). */
  'assist-prediction': { params: { runId: number; photoId: number }; result: { probabilityFile: string }; events: never }
  /** The dataset's pixel classifier predicts its photos without a person's mask; each becomes a model-made mask to review. */
  classify: {
    params: { datasetId: number }
    result: { labelled: number; kept: number; problems: { path: string; reason: string }[] }
    events: never
  }
}

/** A photo's strokes travel as two RLE masks of the photo's size (background wins where both are set). */
export interface Strokes {
  leaf: Rle
  background: Rle
}

/** A dataset's pixel classifier: what it learned from and how. */
export interface ClassifierState {
  datasetId: number
  /** Project-relative file of the forest (JSON). */
  file: string
  settings: { sigmas: number[]; features: number; trees: number; maxDepth: number; maxFeaturePixels: number }
  /** Photos with strokes it learned from, and the stroke pixels of each class. */
  photos: number
  leafPixels: number
  backgroundPixels: number
  trainMs: number
  trainedAt: string
}

export interface LabellingApi {
  /**
   * A proposed mask for a photo, not saved: GrabCut on the box (5 iterations), each click a hard constraint
   * (a disk of 5 px, then 3 more iterations). With a run, the proposal starts from that run's prediction for
   * the photo (from pre-labelling) instead of the box alone, and clicks correct it; `fromClassifier`: from the
   * dataset's pixel classifier's probabilities instead.
   */
  'labels.assist'(args: {
    photoId: number
    box?: AssistBox
    clicks: AssistClick[]
    runId?: number
    fromClassifier?: boolean
  }): Promise<{ mask: Rle; ms: number }>
  /**
   * Save a photo's mask as a person made it, atomically (new files, then one transaction). A person's edit of
   * a model-made mask makes it `model-corrected`; the mask is then hand-checked. With `leaves` (one RLE per leaf,
   * a later one winning where two overlap, whose union must be `mask`), the leaf instances are saved with it;
   * without, the mask keeps no instances. `baseVersion` is the mask's version the edit started from (from
   * `labels.mask`; 0 for a photo without a mask): when another save got there first, this one is refused with
   * code 'conflict' (HTTP 409) naming the current version, and nothing changes. Without it, the save replaces
   * whatever is there.
   */
  'labels.saveMask'(args: { photoId: number; mask: Rle; how: SaveHow; leaves?: Rle[]; baseVersion?: number }): Promise<PhotoDetail>
  /**
   * The photo's current mask as RLE (null when it has none): what the editor starts from; with its leaves, one
   * RLE per leaf (null when the mask does not separate them), and its version (0 without a mask): what a save
   * of an edit of it names as `baseVersion`.
   */
  'labels.mask'(args: { photoId: number }): Promise<{ mask: Rle | null; madeBy: MaskMadeBy | null; leaves: Rle[] | null; version: number }>
  /** A run predicts the dataset's photos that have no mask a person made; each becomes a model-made mask (a job). */
  'labels.prelabel'(args: { datasetId: number; runId: number }): Promise<Job<'prelabel', LabellingJobs['prelabel']['result']>>
  /** A person confirms a model-made mask: it is no longer marked model-made. */
  'photos.confirmMask'(args: { id: number }): Promise<void>
  /** The dataset's model-made masks no person has checked yet, the most uncertain first. */
  'labels.reviewQueue'(args: { datasetId: number }): Promise<ReviewItem[]>
  /**
   * Save a photo's strokes (replacing its earlier ones); with `baseVersion`, refused (code 'conflict') when another
   * save got there first. Nothing is trained: call labels.trainClassifier.
   */
  'labels.saveStrokes'(args: { photoId: number; strokes: Strokes; baseVersion?: number }): Promise<StrokesInfo>
  /** A photo's strokes (null when it has none) and their version (0 without). */
  'labels.strokes'(args: { photoId: number }): Promise<{ strokes: Strokes | null; version: number }>
  /** Strokes from an image file of the photo's size, one value a pixel: 0 none, 1 leaf, 2 background (a path on the host). */
  'labels.importStrokes'(args: { photoId: number; file: string }): Promise<StrokesInfo>
  /** Train the dataset's pixel classifier from all its strokes (a random forest; under a second) and keep it with the dataset. */
  'labels.trainClassifier'(args: { datasetId: number }): Promise<ClassifierState>
  /** The dataset's pixel classifier, or null before it was trained. */
  'labels.classifier'(args: { datasetId: number }): Promise<ClassifierState | null>
  /** The classifier's answer for one photo, not saved: leaf where P ≥ 0.5, and the unsure pixels (0.2–0.8). */
  'labels.classifyPhoto'(args: { photoId: number }): Promise<{ mask: Rle; unsure: Rle; ms: number }>
  /** Apply the dataset's classifier to its photos without a person's mask (a job); the masks enter the review queue. */
  'labels.classify'(args: { datasetId: number }): Promise<Job<'classify', LabellingJobs['classify']['result']>>
}

export interface StrokesInfo {
  photoId: number
  version: number
  leafPixels: number
  backgroundPixels: number
}

export interface ReviewItem {
  photoId: number
  name: string
  /** Project-relative thumbnail path. */
  thumbnail: string
  /** The run that made the mask; null when the dataset's pixel classifier did (`classifier`). */
  runId: number | null
  classifier: boolean
  /** Share of the photo's pixels the run was unsure of (probability 0.2–0.8). */
  uncertainty: number
}
