// The training loop: Adam on a U-Net, batches streamed from disk, metrics per epoch on train and
// validation, early stopping, cancel, best/last checkpoints and resume.
// The maths runs on a TrainingEngine (tfjs in this process, or the GPU worker); everything else stays here, and
// checkpoints are always written here, in the tfjs layers format, from the weights the engine hands back.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunMetrics } from '../../../shared/api/training'
import { batchCount, streamBatches, type AugmentOptions, type Sample, type Sampling } from './data'
import type { LossName } from '../model/unet'
import { checkUnetConfig, type UnetConfig } from '../model/unet-size'
import { checkTrainingFits } from '../model/fit'
import type { TrainingEngine } from '../model/engine'
import { openEngine, type EngineInfo, type OpenEngine } from '../model/engine-choice'
import { GpuWorkerError } from '../model/remote-engine'
import { TrainingWorkerError } from '../model/worker-pool'
import { fullResolution, predictPhoto } from '../model/tiling'
import { separateLeaves } from '../model/instances'
import { SEED_LEVEL } from '../model/leaf-rules'
import { readRaster } from '../imaging/raster'
import { readInstanceFile } from '../datasets/instances'
import { instanceScores, summariseInstances, type InstanceScores, type InstanceSummary } from '../evaluation/instances'
import {
  exists,
  prepareFolder,
  readableFolder,
  readCheckpoint,
  readOptimizerState,
  writeCheckpoint,
  writeOptimizerState,
  type ModelMeta,
  type PreparedFolder
} from '../model/model-io'

export type Metrics = RunMetrics

export interface EpochMetrics {
  /** 1-based, continuing across resumes. */
  epoch: number
  train: Metrics
  validation: Metrics
  seconds: number
  /** A run that separates leaves: the leaves it separated on the validation photos, measured against theirs. */
  leaves?: InstanceSummary
  /** This epoch set a new best validation score (checkpointScore) and was saved as the best checkpoint. */
  best: boolean
}

/**
 * What the best checkpoint is chosen by: a run that separates leaves by the validation photos' SBD (how well each
 * leaf is outlined, punishing merged and split leaves), any other run by the validation IoU.
 */
export function checkpointScore(e: Pick<EpochMetrics, 'validation' | 'leaves'>): number {
  return e.leaves ? e.leaves.sbd : e.validation.iou
}

export interface TrainOptions {
  /** Folder for checkpoints: best/ (by checkpointScore) and last/ (with optimizer state and history). */
  runDir: string
  train: Sample[]
  validation: Sample[]
  model: UnetConfig
  batchSize: number
  /** Total epochs of the run (a resumed run continues up to this number). */
  epochs: number
  learningRate?: number
  loss?: LossName
  /** null: no augmentation. */
  augment: AugmentOptions | null
  /** Whole photos resized (default, as published) or fixed-scale crops (for tiled prediction). */
  sampling?: Sampling
  seed?: number
  /** Stop after this many epochs without a better validation score (checkpointScore; 0 or absent: never). */
  patience?: number
  /** Continue from runDir/last when it exists. */
  resume?: boolean
  /** A fresh run starts from the weights of this checkpoint folder (fine-tuning), which must hold the same network. */
  initialWeights?: string
  signal?: AbortSignal
  onBatch?: (epoch: number, batch: number, batches: number, loss: number) => void
  onEpoch?: (metrics: EpochMetrics) => void
  /** Engine to compute on (the caller closes it); default: the best available (see openEngine), closed at the end. */
  engine?: OpenEngine
}

export interface TrainResult {
  history: EpochMetrics[]
  bestEpoch: number
  /** The best epoch's validation IoU. */
  bestIoU: number
  stoppedEarly: boolean
  /** Epoch the run resumed after (0 for a fresh run), and whether the optimizer state came back too. */
  resumedAfterEpoch: number
  optimizerRestored: boolean
  backend: EngineInfo
}

interface RunState {
  config: UnetConfig
  seed: number
  loss: LossName
  learningRate: number
  batchSize: number
  sampling: Sampling
  history: EpochMetrics[]
  bestEpoch: number
  /** The best epoch's checkpointScore (absent in a state saved before scores: then bestIoU). */
  bestScore?: number
  bestIoU: number
}

const STATE_FILE = 'state.json'

/** Pixel counts at threshold 0.5, summed as the epoch goes. */
class Confusion {
  tp = 0
  fp = 0
  fn = 0
  tn = 0
  lossSum = 0
  images = 0

  /** Adds a batch; `counts` is [tp, fp, fn, tn]. */
  add(counts: ArrayLike<number>, loss: number, images: number): void {
    this.tp += counts[0]
    this.fp += counts[1]
    this.fn += counts[2]
    this.tn += counts[3]
    this.lossSum += loss * images
    this.images += images
  }

  metrics(): Metrics {
    const { tp, fp, fn, tn } = this
    const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b)
    return {
      loss: this.images ? this.lossSum / this.images : 0,
      accuracy: ratio(tp + tn, tp + fp + fn + tn),
      iou: ratio(tp, tp + fp + fn),
      dice: ratio(2 * tp, 2 * tp + fp + fn),
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn)
    }
  }
}

async function evaluate(engine: TrainingEngine, samples: Sample[], o: TrainOptions, seed: number, sampling: Sampling): Promise<Metrics> {
  const confusion = new Confusion()
  for await (const batch of streamBatches(samples, {
    batchSize: o.batchSize,
    size: o.model.inputSize,
    augment: null,
    seed,
    epoch: 0,
    sampling,
    instances: o.model.instances,
    signal: o.signal
  })) {
    const step = await engine.evaluateBatch(batch.x, batch.y, batch.n)
    confusion.add(step.counts, step.loss, batch.n)
  }
  return confusion.metrics()
}

/**
 * The leaves the network separates on the validation photos that have leaf instances, each predicted whole at the
 * run's sampling (as an evaluation would), against their own leaves; null when none has instances.
 */
async function validationLeaves(
  engine: TrainingEngine,
  samples: Sample[],
  meta: ModelMeta,
  signal?: AbortSignal
): Promise<{ leaves: InstanceSummary; seedLevel: number } | null> {
  const { predictor, options } = fullResolution({ inputSize: meta.inputSize, meta, predictBatch: (x, n) => engine.predict(x, n) })
  // Each photo is decoded at every candidate seed level (no map is kept): the level that scores best is the run's.
  const scores = SEED_LEVELS.map(() => [] as InstanceScores[])
  for (const s of samples) {
    if (!s.instancesPath) continue
    signal?.throwIfAborted()
    const truth = await readInstanceFile(s.instancesPath)
    const map = await predictPhoto(predictor, await readRaster(s.imagePath, 3), { ...options, photo: s.imagePath, signal })
    SEED_LEVELS.forEach((seedLevel, k) => scores[k].push(instanceScores(separateLeaves(map, { seedLevel }).ids, truth.ids)))
  }
  const summaries = scores.map((list) => summariseInstances(list))
  let best = SEED_LEVELS.indexOf(SEED_LEVEL)
  summaries.forEach((m, k) => {
    if (m && m.sbd > summaries[best]!.sbd) best = k
  })
  return summaries[best] && { leaves: summaries[best]!, seedLevel: SEED_LEVELS[best] }
}

/**
 * The seed levels a leaf run tries on its validation photos every epoch. Early in training the centre map stays
 * low (on komatsuna after 4 epochs its peaks averaged 0.45), so a fixed level of 0.5 found almost no seeds.
 */
const SEED_LEVELS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]

/**
 * A GPU failure in words, with what to do: the run stops, its last checkpoint stays, and it can be resumed
 * (with a smaller batch, or on the CPU).
 */
function engineFailure(err: unknown, where: string, o: TrainOptions, backend: EngineInfo, lastEpoch: number): unknown {
  const kept = lastEpoch > 0 ? `its checkpoint of epoch ${lastEpoch} is kept` : 'no epoch had finished, so there is no checkpoint yet'
  if (err instanceof TrainingWorkerError)
    return new Error(`${err.message} (at ${where}). The run stopped and ${kept}: resume it, with fewer workers if it happens again.`)
  if (!(err instanceof GpuWorkerError)) return err
  const onCpu = 'resume it on the CPU (backend wasm) if it happens again'
  if (err.failure.kind === 'out-of-memory' && o.batchSize === 1)
    return new Error(
      `The GPU ran out of memory at ${where} with a batch of one image. The run stopped and ${kept}: resume it on the CPU (backend wasm). (${err.message})`
    )
  if (err.failure.kind === 'out-of-memory') {
    const fit = checkTrainingFits(o.model, o.batchSize, backend.backend, backend.gpu)
    const smaller = Math.max(1, Math.min(fit.largestBatch, Math.floor(o.batchSize / 2)))
    return new Error(
      `The GPU ran out of memory at ${where} (batch size ${o.batchSize}): a batch size of ${smaller} would fit. The run stopped and ${kept}: resume it with a batch size of ${smaller}, or ${onCpu}. (${err.message})`
    )
  }
  // WebGPU loses a device, WebGL a context.
  const lost = backend.backend === 'webgpu' ? 'device' : 'context'
  if (err.failure.kind === 'context-lost')
    return new Error(`The GPU ${lost} was lost at ${where}: ${err.message} The run stopped and ${kept}: resume it, or ${onCpu}.`)
  return new Error(`The GPU failed at ${where}: ${err.message} The run stopped and ${kept}: ${onCpu}.`)
}

/** Refuse a run that cannot work, with a message for the user. */
export function checkTrainingInput(o: Pick<TrainOptions, 'train' | 'validation' | 'batchSize' | 'epochs' | 'model'>): void {
  if (o.train.length < 2) throw new Error(`Training needs at least 2 labelled photos in the training set; it has ${o.train.length}. Label more photos first.`)
  if (o.validation.length === 0) throw new Error('Training needs at least 1 labelled photo in the validation set to measure the model; it has none.')
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`The batch size must be a positive whole number (got ${o.batchSize}).`)
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`The number of epochs must be a positive whole number (got ${o.epochs}).`)
  checkUnetConfig(o.model)
  if (o.model.instances && !o.train.some((s) => s.instancesPath))
    throw new Error(
      'Separating leaves needs masks that tell the leaves apart (a colour or an index per leaf, or COCO/Labelbox objects), and no training photo has them. Import such masks, or train without separating leaves.'
    )
}

/**
 * Train (or resume) a U-Net. Throws the signal's reason when cancelled (between batches); the last
 * completed epoch stays saved in runDir/last, from which `resume: true` continues.
 */
export async function trainUnet(o: TrainOptions): Promise<TrainResult> {
  checkTrainingInput(o)
  const opened = o.engine ?? (await openEngine('auto'))
  try {
    return await trainOn(opened, o)
  } finally {
    if (!o.engine) await opened.close()
  }
}

async function trainOn({ engine, info: backend }: OpenEngine, o: TrainOptions): Promise<TrainResult> {
  const fit = checkTrainingFits(o.model, o.batchSize, backend.backend, backend.gpu, backend.workers)
  if (!fit.fits) throw new Error(fit.message)

  const lossName = o.loss ?? 'bce+dice'
  const learningRate = o.learningRate ?? 1e-3
  const seed = o.seed ?? 1
  const lastDir = join(o.runDir, 'last')
  const bestDir = join(o.runDir, 'best')
  await mkdir(o.runDir, { recursive: true })

  const sampling = o.sampling ?? { mode: 'whole' }
  let state: RunState = { config: o.model, seed, loss: lossName, learningRate, batchSize: o.batchSize, sampling, history: [], bestEpoch: 0, bestIoU: -1 }
  let optimizerRestored = false
  let topology: unknown
  const lastFolder = o.resume ? await readableFolder(lastDir) : null
  if (lastFolder && (await exists(join(lastFolder, STATE_FILE)))) {
    state = JSON.parse(await readFile(join(lastFolder, STATE_FILE), 'utf8')) as RunState
    if (JSON.stringify(state.config) !== JSON.stringify(o.model))
      throw new Error(`Cannot resume the run in ${o.runDir}: it trained a different network (${JSON.stringify(state.config)}).`)
    const checkpoint = await readCheckpoint(lastFolder)
    ;({ topology } = await engine.build({
      network: { kind: 'topology', topology: checkpoint.topology },
      loss: state.loss,
      learningRate: state.learningRate,
      weights: checkpoint.weights
    }))
    const optimizerState = await readOptimizerState(lastFolder)
    if (optimizerState) {
      await engine.setOptimizerState(optimizerState)
      optimizerRestored = true
    }
  } else {
    // A fine-tuned run starts from another run's weights (the same network, checked when it was asked for).
    const weights = o.initialWeights ? (await readCheckpoint(o.initialWeights)).weights : undefined
    ;({ topology } = await engine.build({ network: { kind: 'unet', size: o.model, seed }, weights, loss: lossName, learningRate }))
  }
  const resumedAfterEpoch = state.history.length
  const size = o.model.inputSize
  const batches = batchCount(o.train.length, o.batchSize)
  let stoppedEarly = false

  for (let epoch = resumedAfterEpoch + 1; epoch <= o.epochs; epoch++) {
    const started = performance.now()
    const confusion = new Confusion()
    let b = 0
    const failed = (where: string) => (err: unknown) => {
      throw engineFailure(err, where, o, backend, epoch - 1)
    }
    for await (const batch of streamBatches(o.train, {
      batchSize: o.batchSize,
      size,
      augment: o.augment,
      seed: state.seed,
      epoch,
      sampling: state.sampling,
      instances: o.model.instances,
      signal: o.signal
    })) {
      const step = await engine.trainStep(batch.x, batch.y, batch.n).catch(failed(`batch ${b + 1} of epoch ${epoch}`))
      confusion.add(step.counts, step.loss, batch.n)
      if (!Number.isFinite(step.loss)) throw new Error(`Training diverged at epoch ${epoch} (the loss became ${step.loss}); try a lower learning rate.`)
      o.onBatch?.(epoch, ++b, batches, step.loss)
      o.signal?.throwIfAborted()
    }
    const validation = await evaluate(engine, o.validation, o, state.seed, state.sampling).catch(failed(`the validation of epoch ${epoch}`))
    const meta: ModelMeta = {
      ...o.model,
      ...(o.model.instances && { leafMap: 'centre' }),
      sampling: state.sampling,
      loss: state.loss,
      epoch,
      validationIoU: validation.iou
    }
    const measured = o.model.instances
      ? await validationLeaves(engine, o.validation, meta, o.signal).catch(failed(`the leaves of the validation of epoch ${epoch}`))
      : null
    const leaves = measured?.leaves
    if (measured) meta.seedLevel = measured.seedLevel
    const score = checkpointScore({ validation, leaves })
    const best = score > (state.bestScore ?? state.bestIoU)
    const seconds = (performance.now() - started) / 1000
    const metrics: EpochMetrics = { epoch, train: confusion.metrics(), validation, seconds, ...(leaves && { leaves }), best }
    const weights = await engine.getWeights().catch(failed(`the checkpoint of epoch ${epoch}`))
    const optimizerState = await engine.getOptimizerState().catch(failed(`the checkpoint of epoch ${epoch}`))
    state.history.push(metrics)
    if (best) {
      state.bestScore = score
      state.bestIoU = validation.iou
      state.bestEpoch = epoch
    }
    // Both checkpoints are written whole before either replaces the one there, and the epoch is recorded (onEpoch)
    // after: a disk that fills mid-checkpoint leaves best/ and last/ at the epoch the database names.
    const written: PreparedFolder[] = []
    try {
      if (best) written.push(await prepareFolder(bestDir, (dir) => writeCheckpoint(dir, { topology, weights }, meta)))
      written.push(
        await prepareFolder(lastDir, async (dir) => {
          await writeCheckpoint(dir, { topology, weights }, meta)
          if (optimizerState) await writeOptimizerState(dir, optimizerState)
          await writeFile(join(dir, STATE_FILE), JSON.stringify(state))
        })
      )
    } catch (err) {
      for (const folder of written) await folder.discard()
      throw err
    }
    for (const folder of written) await folder.commit()
    o.onEpoch?.(metrics)
    if (o.patience && epoch - state.bestEpoch >= o.patience && epoch < o.epochs) {
      stoppedEarly = true
      break
    }
  }
  return {
    history: state.history,
    bestEpoch: state.bestEpoch,
    bestIoU: state.bestIoU,
    stoppedEarly,
    resumedAfterEpoch,
    optimizerRestored,
    backend
  }
}
