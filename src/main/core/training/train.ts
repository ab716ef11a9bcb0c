// The training loop: Adam on a U-Net, batches streamed from disk, metrics per epoch on train and
// validation, early stopping, cancel, best/last checkpoints and resume.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunMetrics } from '../../../shared/api/training'
import { initBackend, tf, type BackendInfo } from '../model/backend'
import { batchCount, streamBatches, type AugmentOptions, type Batch, type Sample, type Sampling } from './data'
import { buildUnet, checkTrainingFits, checkUnetConfig, lossFunction, type LossName, type UnetConfig } from '../model/unet'
import { exists, loadModelFiles, loadOptimizerFiles, readableFolder, replaceFolder, saveModelFiles, saveOptimizerFiles, type ModelMeta } from '../model/model-io'

export type Metrics = RunMetrics

export interface EpochMetrics {
  /** 1-based, continuing across resumes. */
  epoch: number
  train: Metrics
  validation: Metrics
  seconds: number
  /** This epoch set a new best validation IoU (and was saved as the best checkpoint). */
  best: boolean
}

export interface TrainOptions {
  /** Folder for checkpoints: best/ (by validation IoU) and last/ (with optimizer state and history). */
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
  /** Stop after this many epochs without a better validation IoU (0 or absent: never). */
  patience?: number
  /** Continue from runDir/last when it exists. */
  resume?: boolean
  /** A fresh run starts from the weights of this checkpoint folder (fine-tuning), which must hold the same network. */
  initialWeights?: string
  signal?: AbortSignal
  onBatch?: (epoch: number, batch: number, batches: number, loss: number) => void
  onEpoch?: (metrics: EpochMetrics) => void
  /** Backend to use; default: the best available (see initBackend). */
  backend?: BackendInfo
}

export interface TrainResult {
  history: EpochMetrics[]
  bestEpoch: number
  bestIoU: number
  stoppedEarly: boolean
  /** Epoch the run resumed after (0 for a fresh run), and whether the optimizer state came back too. */
  resumedAfterEpoch: number
  optimizerRestored: boolean
  backend: BackendInfo
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

/** [tp, fp, fn, tn] of probabilities against 0/1 targets at threshold 0.5, as a 4-vector. */
export function confusionCounts(y: tf.Tensor, p: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const predicted = p.greaterEqual(0.5).toFloat()
    const tp = predicted.mul(y).sum()
    const fp = predicted.sum().sub(tp)
    const fn = y.sum().sub(tp)
    const tn = tf.scalar(y.size).sub(tp).sub(fp).sub(fn)
    return tf.stack([tp, fp, fn, tn]) as tf.Tensor1D
  })
}

function batchTensors(batch: Batch, size: number): { x: tf.Tensor4D; y: tf.Tensor4D } {
  return { x: tf.tensor4d(batch.x, [batch.n, size, size, 3]), y: tf.tensor4d(batch.y, [batch.n, size, size, 1]) }
}

async function evaluate(
  model: tf.LayersModel,
  samples: Sample[],
  o: TrainOptions,
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar,
  seed: number,
  sampling: Sampling
): Promise<Metrics> {
  const confusion = new Confusion()
  const size = o.model.inputSize
  for await (const batch of streamBatches(samples, { batchSize: o.batchSize, size, augment: null, seed, epoch: 0, sampling, signal: o.signal })) {
    const { x, y } = batchTensors(batch, size)
    const [lossValue, counts] = tf.tidy(() => {
      const p = model.predict(x) as tf.Tensor
      return [loss(y, p), confusionCounts(y, p)]
    })
    confusion.add(counts.dataSync(), lossValue.dataSync()[0], batch.n)
    tf.dispose([x, y, lossValue, counts])
  }
  return confusion.metrics()
}

/** Refuse a run that cannot work, with a message for the user. */
export function checkTrainingInput(o: Pick<TrainOptions, 'train' | 'validation' | 'batchSize' | 'epochs' | 'model'>): void {
  if (o.train.length < 2)
    throw new Error(`Training needs at least 2 labelled photos in the training set; it has ${o.train.length}. Label more photos first.`)
  if (o.validation.length === 0)
    throw new Error('Training needs at least 1 labelled photo in the validation set to measure the model; it has none.')
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`The batch size must be a positive whole number (got ${o.batchSize}).`)
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`The number of epochs must be a positive whole number (got ${o.epochs}).`)
  checkUnetConfig(o.model)
}

/**
 * Train (or resume) a U-Net. Throws the signal's reason when cancelled (between batches); the last
 * completed epoch stays saved in runDir/last, from which `resume: true` continues.
 */
export async function trainUnet(o: TrainOptions): Promise<TrainResult> {
  checkTrainingInput(o)
  const backend = o.backend ?? (await initBackend())
  const fit = checkTrainingFits(o.model, o.batchSize, backend.backend)
  if (!fit.fits) throw new Error(fit.message)

  const lossName = o.loss ?? 'bce+dice'
  const learningRate = o.learningRate ?? 1e-3
  const seed = o.seed ?? 1
  const lastDir = join(o.runDir, 'last')
  const bestDir = join(o.runDir, 'best')
  await mkdir(o.runDir, { recursive: true })

  const sampling = o.sampling ?? { mode: 'whole' }
  let state: RunState = { config: o.model, seed, loss: lossName, learningRate, batchSize: o.batchSize, sampling, history: [], bestEpoch: 0, bestIoU: -1 }
  let model: tf.LayersModel
  const optimizer = tf.train.adam(learningRate)
  let optimizerRestored = false
  const lastFolder = o.resume ? await readableFolder(lastDir) : null
  if (lastFolder && (await exists(join(lastFolder, STATE_FILE)))) {
    state = JSON.parse(await readFile(join(lastFolder, STATE_FILE), 'utf8')) as RunState
    if (JSON.stringify(state.config) !== JSON.stringify(o.model))
      throw new Error(`Cannot resume the run in ${o.runDir}: it trained a different network (${JSON.stringify(state.config)}).`)
    model = await loadModelFiles(lastFolder)
    optimizerRestored = await loadOptimizerFiles(optimizer, lastFolder)
  } else {
    model = buildUnet(o.model, seed)
    if (o.initialWeights) {
      const initial = await loadModelFiles(o.initialWeights)
      try {
        model.setWeights(initial.getWeights())
      } finally {
        initial.dispose()
      }
    }
  }
  const resumedAfterEpoch = state.history.length
  const loss = lossFunction(state.loss)
  const size = o.model.inputSize
  const batches = batchCount(o.train.length, o.batchSize)
  let stoppedEarly = false

  try {
    for (let epoch = resumedAfterEpoch + 1; epoch <= o.epochs; epoch++) {
      const started = performance.now()
      const confusion = new Confusion()
      let b = 0
      for await (const batch of streamBatches(o.train, { batchSize: o.batchSize, size, augment: o.augment, seed: state.seed, epoch, sampling: state.sampling, signal: o.signal })) {
        const { x, y } = batchTensors(batch, size)
        let counts: tf.Tensor | undefined
        const lossValue = optimizer.minimize(() => {
          const p = model.apply(x, { training: true }) as tf.Tensor
          counts = tf.keep(confusionCounts(y, p))
          return loss(y, p)
        }, true)!
        const value = lossValue.dataSync()[0]
        confusion.add(counts!.dataSync(), value, batch.n)
        tf.dispose([x, y, lossValue, counts!])
        if (!Number.isFinite(value)) throw new Error(`Training diverged at epoch ${epoch} (the loss became ${value}); try a lower learning rate.`)
        o.onBatch?.(epoch, ++b, batches, value)
        o.signal?.throwIfAborted()
      }
      const validation = await evaluate(model, o.validation, o, loss, state.seed, state.sampling)
      const best = validation.iou > state.bestIoU
      const metrics: EpochMetrics = { epoch, train: confusion.metrics(), validation, seconds: (performance.now() - started) / 1000, best }
      state.history.push(metrics)
      const meta: ModelMeta = { ...o.model, sampling: state.sampling, loss: state.loss, epoch, validationIoU: validation.iou }
      if (best) {
        state.bestIoU = validation.iou
        state.bestEpoch = epoch
        await replaceFolder(bestDir, (dir) => saveModelFiles(model, dir, meta))
      }
      await replaceFolder(lastDir, async (dir) => {
        await saveModelFiles(model, dir, meta)
        await saveOptimizerFiles(optimizer, dir)
        await writeFile(join(dir, STATE_FILE), JSON.stringify(state))
      })
      o.onEpoch?.(metrics)
      if (o.patience && epoch - state.bestEpoch >= o.patience && epoch < o.epochs) {
        stoppedEarly = true
        break
      }
    }
  } finally {
    model.dispose()
    optimizer.dispose()
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
