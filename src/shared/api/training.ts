// Training: U-Net runs on a dataset's train/validation split, their live progress, and the kept runs.
import type { Job } from './job'
import type { InstanceSummary } from './evaluation'

export type PresetName = 'seed' | 'fast-cpu' | 'leaves-cpu'
export type LossName = 'bce' | 'dice' | 'bce+dice'

/** Each augmentation, switchable; strengths are the ML core's defaults. */
export interface AugmentSwitches {
  /** Horizontal and vertical flips. */
  flips: boolean
  /** Quarter turns. */
  rotate90: boolean
  /** Small rotations (up to ±15°). */
  rotate: boolean
  /** Random scale and crop (75–100 % of each side). */
  scale: boolean
  /** Brightness, contrast, saturation and hue jitter. */
  color: boolean
  blur: boolean
  noise: boolean
}

export interface TrainingConfig {
  /** Which preset the values came from ('custom' once a network value was changed). */
  preset: PresetName | 'custom'
  inputSize: number
  baseFilters: number
  depth: number
  batchSize: number
  epochs: number
  learningRate: number
  loss: LossName
  /** Stop after this many epochs without a better validation IoU; 0 = never. */
  patience: number
  seed: number
  augment: AugmentSwitches
  /**
   * Worker threads that train on the CPU (the wasm backend), each on its share of every batch; the other
   * backends ignore it. Absent when a run starts: the cores less one, at most the batch size (recorded so).
   */
  workers?: number
  /**
   * Separate leaves: the network also learns where each leaf's middle is (its normalised distance to its border), and
   * its masks are split into leaves (needs masks that tell leaves apart). Absent or false: one leaf/background mask.
   */
  instances?: boolean
  /**
   * How a photo becomes a network input. 'whole' (or absent): the whole photo squeezed to the input size. 'crops':
   * windows of the photo at a fixed scale (network pixels per photo pixel; 1 = the photo's own pixels), and
   * prediction tiles a photo at that same scale, so thin parts (petioles, the seams between leaves) keep their width.
   */
  sampling?: { mode: 'whole' } | { mode: 'crops'; scale: number }
}

export interface TrainingPreset {
  name: PresetName
  label: string
  description: string
  config: TrainingConfig
}

/**
 * Which backend a run should use: 'auto' takes the fastest that really runs (native CUDA, then the desktop
 * app's GPU worker on WebGPU or WebGL2 with a hardware renderer, then native CPU, then wasm); the others force one.
 */
export type TrainingBackendChoice = 'auto' | 'webgpu' | 'webgl' | 'tensorflow' | 'wasm' | 'cpu'

export interface TrainingBackend {
  /** 'tensorflow' (native), 'webgpu' (Dawn, every host), 'webgl' (the desktop app's GPU worker), 'wasm' or 'cpu'. */
  backend: string
  /** What computes, in words ('CPU (wasm, 4 workers)', 'GPU: NVIDIA …', 'GPU (WebGL2): ANGLE (…)'). */
  device: string
  /** The GPU worker's renderer string (WEBGL_debug_renderer_info or the WebGPU adapter), when it computed. */
  renderer: string | null
  /** Why a faster backend is not in use; null when the GPU trains. */
  reason: string | null
  /** true: measured by a training job on this machine; false: predicted from what is installed. */
  measured: boolean
}

export interface FitCheckResult {
  fits: boolean
  /**
   * Estimated peak memory and what the backend can use, in bytes (on the GPU worker: the largest tensor and one
   * texture or buffer; both 0 while its limits are not known yet).
   */
  bytes: number
  limitBytes: number
  /** The largest batch size that fits (0 when not even one image does). */
  largestBatch: number
  backend: string
  message: string | null
}

/** One epoch's figures on a set of photos (training or validation). */
export interface RunMetrics {
  loss: number
  /** Fraction of pixels right at threshold 0.5. */
  accuracy: number
  /** Pooled over every pixel of the set: TP / (TP + FP + FN). */
  iou: number
  /** Pooled: 2TP / (2TP + FP + FN). */
  dice: number
  precision: number
  recall: number
}

export interface RunEpoch {
  epoch: number
  train: RunMetrics
  validation: RunMetrics
  seconds: number
  /** A run that separates leaves: its leaves on the validation photos (SBD, DiC, |DiC| and FBD as fractions). */
  leaves?: { sbd: number; dic: number; absDic: number; fbd: number; photos: number }
  /** This epoch set a new best validation score: SBD for a run that separates leaves, else IoU. */
  best: boolean
}

/** 'interrupted': its job stopped without finishing (the app closed or crashed); it can be resumed. */
export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'

/**
 * The run a view offers first: the completed run with the best validation IoU — never a cancelled, failed or
 * interrupted one — or null when there is none.
 */
export function bestFinishedRun<R extends Pick<RunSummary, 'status' | 'bestValIoU'>>(runs: readonly R[]): R | null {
  const finished = runs.filter((r) => r.status === 'completed' && r.bestValIoU !== null)
  return finished.reduce<R | null>((best, r) => (best === null || r.bestValIoU! > best.bestValIoU! ? r : best), null)
}

/**
 * The run a view offers first: the one last used there while it is still offered, else the best finished run
 * (bestFinishedRun), else null.
 */
export function defaultRun<R extends Pick<RunSummary, 'id' | 'status' | 'bestValIoU'>>(runs: readonly R[], lastUsed: number | null | undefined): R | null {
  return runs.find((r) => r.id === lastUsed) ?? bestFinishedRun(runs)
}

/**
 * The dataset the Training view offers first: the one last used while it still exists, else the one with the most
 * training photos (the first of those in the list on a tie), else null.
 */
export function defaultTrainingDataset<D extends { id: number; splits: { train: number } }>(
  datasets: readonly D[],
  lastUsed: number | null | undefined
): D | null {
  return (
    datasets.find((d) => d.id === lastUsed) ?? datasets.reduce<D | null>((best, d) => (best === null || d.splits.train > best.splits.train ? d : best), null)
  )
}

/** The Training view's form as last left. */
export interface TrainingForm {
  datasetId: number | null
  config: TrainingConfig
  backend: TrainingBackendChoice
}

/**
 * What the views last used, kept in the project so that it survives closing and reopening it. Each is null until
 * first used; an id may name a run or dataset deleted since (the views then fall back to their defaults).
 */
export interface TrainingPreferences {
  /** The Training view's form. */
  form: TrainingForm | null
  /** The run last chosen in a dataset's Label with a run. */
  labelRunId: number | null
  /** The run last chosen in Predict. */
  predictRunId: number | null
}

export interface RunSummary {
  id: number
  name: string
  notes: string
  datasetId: number | null
  datasetName: string
  status: RunStatus
  config: TrainingConfig
  backend: string | null
  device: string | null
  backendReason: string | null
  /** The GPU worker's renderer string, when the run trained on it. */
  renderer: string | null
  jobId: number | null
  createdAt: string
  finishedAt: string | null
  error: string | null
  stoppedEarly: boolean
  epochsDone: number
  bestEpoch: number | null
  bestValIoU: number | null
  bestValDice: number | null
  /** Seconds spent in training epochs, summed. */
  seconds: number
  trainPhotos: number
  valPhotos: number
  /** Project-relative folders of the checkpoints (tfjs layers format), once saved. */
  bestModel: string | null
  lastModel: string | null
  /** Can continue from its last checkpoint (not running, epochs left). */
  canResume: boolean
}

export interface RunSnapshotPhoto {
  photoId: number
  name: string
  split: 'train' | 'val'
  photoHash: string
  maskHash: string
}

export interface RunDetail extends RunSummary {
  epochs: RunEpoch[]
  snapshot: RunSnapshotPhoto[]
}

/** Live training progress: loss per batch, metrics per epoch. */
export type TrainingProgress =
  | { runId: number; jobId: number; kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number }
  | { runId: number; jobId: number; kind: 'epoch'; epochs: number; metrics: RunEpoch }

export interface AugmentedSample {
  /** PNG data URLs at the network's input size. */
  image: string
  mask: string
}

export interface TrainJobParams {
  runId: number
  /** Continue from runs/<id>/last. */
  resume: boolean
  /** Where the maths runs (default 'auto': the fastest backend that really runs; see model/engine-choice). */
  backend?: TrainingBackendChoice
  /** A fresh run starts from these weights (a project-relative checkpoint folder) instead of random ones. */
  initFrom?: string
}

export interface EstimateJobParams {
  config: TrainingConfig
  backend: TrainingBackendChoice
  /** Photos the run would train and validate on. */
  trainPhotos: number
  valPhotos: number
}

/** How long a run would take, from training steps timed on the chosen backend. */
export interface RunEstimate {
  /** Seconds of one training step (one batch), after a first warm-up step. */
  stepSeconds: number
  /** Steps timed (after the warm-up). */
  steps: number
  epochSeconds: number
  totalSeconds: number
  backend: string
  device: string
}

export interface TrainJobResult {
  runId: number
  epochs: number
  bestEpoch: number
  bestIoU: number
  stoppedEarly: boolean
  resumedAfterEpoch: number
}

export interface RunComparison {
  runs: (RunSummary & { epochs: RunEpoch[] })[]
  /** Config keys whose values differ between the runs. */
  differences: (keyof TrainingConfig | 'dataset' | 'backend')[]
  /** Runs were trained on different dataset snapshots (photos, masks or split differ): compare with care. */
  differentSnapshots: boolean
  /** Per photo (by name), each run's validation IoU from its latest evaluation on its validation photos; null where missing. */
  perPhoto: {
    name: string
    photoId: number
    iou: (number | null)[]
    probabilityFiles: (string | null)[]
    photoFile: string
    /** The truth mask the runs were measured against. */ maskFile: string
  }[]
  /** Evaluations used, per run (null: the run has not been evaluated yet). */
  evaluations: (number | null)[]
  /** Per run, the leaf measures of that evaluation at threshold 0.5 (null: the run does not separate leaves, or has no such evaluation). */
  leaves: (InstanceSummary | null)[]
}

/** The job kinds of this area. */
export interface TrainingJobs {
  train: { params: TrainJobParams; result: TrainJobResult; events: 'training.progress' }
  /** Times a few training steps of a configuration on generated data: how long a run would take. */
  'estimate-training': { params: EstimateJobParams; result: RunEstimate; events: never }
}

type TrainingJob<K extends keyof TrainingJobs> = Job<K, TrainingJobs[K]['result']>

export interface TrainingApi {
  'training.presets'(args: Record<string, never>): Promise<{ presets: TrainingPreset[]; defaults: TrainingConfig }>
  /** Which backend and device would train, and why a faster one is not in use. */
  'training.backend'(args: Record<string, never>): Promise<TrainingBackend>
  /** Whether a configuration fits the backend's memory, and what would. */
  'training.checkFit'(args: { config: TrainingConfig; backend?: TrainingBackendChoice }): Promise<FitCheckResult>
  /** 8 augmented versions of a labelled photo (unless one is named: the training photo with the most leaf). */
  'training.previews'(args: { datasetId: number; photoId?: number; inputSize: number; augment: AugmentSwitches; seed?: number }): Promise<{
    photoId: number
    photoName: string
    samples: AugmentedSample[]
  }>
  /**
   * Time a few training steps of `config` on the chosen backend, on generated data, in the job process
   * (a job: it shows progress and can be cancelled); its result says how long the run would take.
   */
  'training.estimate'(args: { datasetId: number; config: TrainingConfig; backend?: TrainingBackendChoice }): Promise<TrainingJob<'estimate-training'>>
  /** Freeze the dataset's train/validation photos with masks and train in the job process. */
  'training.start'(args: {
    datasetId: number
    name?: string
    config: TrainingConfig
    backend?: TrainingBackendChoice
    /** Fine-tune: start from this run's best checkpoint (the same network) instead of random weights. */
    initFrom?: number
  }): Promise<{ run: RunSummary; job: TrainingJob<'train'> }>
  /** Continue a cancelled or interrupted run from its last checkpoint (optionally to more epochs). */
  'training.resume'(args: {
    runId: number
    epochs?: number
    backend?: TrainingBackendChoice
    workers?: number
  }): Promise<{ run: RunSummary; job: TrainingJob<'train'> }>

  /** What the views last used in this project (the training form, the runs chosen to label and to predict with). */
  'training.preferences'(args: Record<string, never>): Promise<TrainingPreferences>
  /**
   * Remember what a view used: each field given replaces the one kept, the others stay. Nothing is kept in a
   * project opened read-only. Returns what is kept now.
   */
  'training.remember'(args: Partial<TrainingPreferences>): Promise<TrainingPreferences>

  'runs.list'(args: Record<string, never>): Promise<RunSummary[]>
  'runs.get'(args: { id: number }): Promise<RunDetail>
  /** Runs side by side: what differs between them, and each photo's validation IoU from their latest evaluations. */
  'runs.compare'(args: { runIds: number[] }): Promise<RunComparison>
  /** The run with this id (given as text) or name; not_found says so. */
  'runs.findByName'(args: { name: string }): Promise<RunSummary>
  'runs.update'(args: { id: number; name?: string; notes?: string }): Promise<RunSummary>
  /** Delete a run that is not training, with its checkpoints. */
  'runs.delete'(args: { id: number }): Promise<void>
}
