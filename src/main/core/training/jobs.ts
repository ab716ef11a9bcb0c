// The 'train' job: trains (or resumes) a run in the job process. The run's dataset snapshot was frozen
// when it was created; here its masks are copied into runs/<id>/masks (so a re-imported mask cannot
// change what the run learns from), batches stream from the project's files, checkpoints land in
// runs/<id>/best and runs/<id>/last, and every epoch is recorded in SQLite.
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { EstimateJobParams, RunEpoch, RunEstimate, TrainingProgress, TrainJobParams, TrainJobResult } from '../../../shared/api/training'
import type { JobContext } from '../jobs/context'
import type { Project } from '../project'
import { augmentOptions, runWorkers } from './config'
import { currentMasks, finishRun, getRun, recordEpoch, runSnapshot, setRunBackend, snapshotInstancesFile, truncateEpochs } from './records'
import { writeAtomic } from '../store/atomic'

/**
 * Copy the dataset's masks into the run (with their leaf instances for a run that separates leaves), checking
 * each is still the mask the snapshot froze.
 */
async function freezeMasks(project: Project, runId: number, instances: boolean, signal: AbortSignal): Promise<void> {
  const snapshot = runSnapshot(project.db, runId)
  const masks = currentMasks(project.db, runId)
  const copy = async (from: string, target: string) => {
    await mkdir(dirname(target), { recursive: true })
    await writeAtomic(target, (tmp) => copyFile(join(project.dir, from), tmp))
  }
  for (const photo of snapshot) {
    signal.throwIfAborted()
    const target = join(project.dir, photo.maskFile)
    if (existsSync(target)) continue
    const mask = masks.get(photo.photoId)
    if (!mask || mask.hash !== photo.maskHash)
      throw new ApiError('conflict', `The mask of ${photo.name} changed or was removed after run ${runId} was started; start a new run.`)
    // The instances first: a mask copy without them would read as a mask that has none.
    if (instances && mask.instancesFile) await copy(mask.instancesFile, join(project.dir, snapshotInstancesFile(photo.maskFile)))
    await copy(mask.file, target)
  }
}

/** Epochs a checkpoint saved but SQLite may lack (a crash between the two): recorded again on resume. */
async function checkpointHistory(runDir: string): Promise<RunEpoch[]> {
  for (const dir of ['last', 'last.old']) {
    try {
      return (JSON.parse(await readFile(join(runDir, dir, 'state.json'), 'utf8')) as { history: RunEpoch[] }).history
    } catch {
      // not there: try the next
    }
  }
  return []
}

export async function trainJob(params: TrainJobParams, ctx: JobContext<'train'>): Promise<TrainJobResult> {
  const { project, signal } = ctx
  const db = project.db
  const run = getRun(db, params.runId)
  const { config } = run
  const runDir = project.path('runs', String(run.id))
  const models = { best: `runs/${run.id}/best`, last: `runs/${run.id}/last` }
  let closeEngine: (() => Promise<void>) | undefined
  try {
    ctx.progress(0, 0, 'Preparing the dataset snapshot…')
    const instances = config.instances === true
    await freezeMasks(project, run.id, instances, signal)
    const snapshot = runSnapshot(db, run.id)
    for (const photo of snapshot)
      if (!existsSync(join(project.dir, photo.photoFile)))
        throw new ApiError('bad_input', `The photo file of ${photo.name} (${photo.photoFile}) is missing from the project.`)
    const samples = (split: 'train' | 'val') =>
      snapshot
        .filter((p) => p.split === split)
        .map((p) => {
          const instancesPath = join(project.dir, snapshotInstancesFile(p.maskFile))
          return {
            id: String(p.photoId),
            imagePath: join(project.dir, p.photoFile),
            maskPath: join(project.dir, p.maskFile),
            instancesPath: instances && existsSync(instancesPath) ? instancesPath : undefined
          }
        })
    const train = samples('train')
    const validation = samples('val')

    ctx.progress(0, 0, 'Starting the training backend…')
    // tfjs loads here, in the job process, only when a run starts.
    const { openEngine } = await import('../model/engine-choice')
    const { checkTrainingFits } = await import('../model/fit')
    const { trainUnet } = await import('./train')
    // On wasm, this many worker threads share every batch (a run from before they existed: the default).
    const workers = runWorkers(config)
    const opened = await openEngine(params.backend ?? 'auto', { workers })
    closeEngine = opened.close
    const backend = opened.info
    // The ML core's reason carries module resolution details; people need the package names.
    setRunBackend(db, run.id, { ...backend, reason: backend.reason?.replace(/ \(Cannot find package [^)]*\)/g, '') })
    ctx.progress(0, 0, `Training on ${backend.backend}…`) // clients that show the backend learn it now, not after a batch
    const fit = checkTrainingFits(config, config.batchSize, backend.backend, backend.gpu, backend.workers)
    if (!fit.fits) throw new ApiError('bad_input', fit.message!)

    if (params.resume) {
      const history = await checkpointHistory(runDir)
      for (const e of history) recordEpoch(db, run.id, e, models)
      truncateEpochs(db, run.id, history.length)
    }
    const startEpoch = params.resume ? getRun(db, run.id).epochsDone : 0
    const batches = Math.ceil(train.length / config.batchSize)
    const total = (config.epochs - startEpoch) * batches
    let done = 0
    const result = await trainUnet({
      runDir,
      train,
      validation,
      model: { inputSize: config.inputSize, baseFilters: config.baseFilters, depth: config.depth, ...(instances && { instances }) },
      batchSize: config.batchSize,
      epochs: config.epochs,
      learningRate: config.learningRate,
      loss: config.loss,
      augment: augmentOptions(config.augment),
      sampling: config.sampling,
      seed: config.seed,
      patience: config.patience,
      resume: params.resume,
      initialWeights: params.initFrom ? join(project.dir, params.initFrom) : undefined,
      signal,
      engine: opened,
      onBatch(epoch, batch, batchesInEpoch, loss) {
        done++
        ctx.progress(done, total, `Epoch ${epoch}/${config.epochs} · batch ${batch}/${batchesInEpoch}${batch === batchesInEpoch ? ' · validating' : ''}`)
        const event: TrainingProgress = { runId: run.id, jobId: ctx.jobId, kind: 'batch', epoch, epochs: config.epochs, batch, batches: batchesInEpoch, loss }
        ctx.event('training.progress', event)
      },
      onEpoch(metrics) {
        recordEpoch(db, run.id, metrics, models)
        const event: TrainingProgress = { runId: run.id, jobId: ctx.jobId, kind: 'epoch', epochs: config.epochs, metrics }
        ctx.event('training.progress', event)
      }
    })
    finishRun(db, run.id, 'completed', { stoppedEarly: result.stoppedEarly })
    return {
      runId: run.id,
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      bestIoU: result.bestIoU,
      stoppedEarly: result.stoppedEarly,
      resumedAfterEpoch: result.resumedAfterEpoch
    }
  } catch (err) {
    if (signal.aborted) finishRun(db, run.id, 'cancelled')
    else finishRun(db, run.id, 'failed', { error: err instanceof Error ? err.message : String(err) })
    throw err
  } finally {
    await closeEngine?.()
  }
}

/** Seconds the estimate spends timing steps after the warm-up step, at most. */
const ESTIMATE_BUDGET_SECONDS = 20

/**
 * The 'estimate-training' job: build the configured network on the chosen backend and time training steps
 * on generated images (one warm-up step, which compiles kernels, then up to 3 more within the budget).
 * Validation costs about a third of a step per batch (a forward pass only); data loading is not counted.
 */
export async function estimateTrainingJob(params: EstimateJobParams, ctx: JobContext<'estimate-training'>): Promise<RunEstimate> {
  const { signal } = ctx
  const c = params.config
  ctx.progress(0, 4, 'Starting the training backend…')
  const { openEngine } = await import('../model/engine-choice')
  // Timed on as many workers as the run would train with.
  const opened = await openEngine(params.backend, { workers: runWorkers(c) })
  try {
    await opened.engine.build({
      network: { kind: 'unet', size: { inputSize: c.inputSize, baseFilters: c.baseFilters, depth: c.depth }, seed: c.seed },
      loss: c.loss,
      learningRate: c.learningRate
    })
    const n = c.batchSize
    const side = c.inputSize
    const x = new Float32Array(n * side * side * 3)
    const y = new Float32Array(n * side * side)
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000
    for (let i = 0; i < y.length; i++) y[i] = i % side < side / 2 ? 1 : 0
    const times: number[] = []
    let spent = 0
    for (let step = 0; step < 4 && (step < 2 || spent < ESTIMATE_BUDGET_SECONDS); step++) {
      signal.throwIfAborted()
      const started = performance.now()
      await opened.engine.trainStep(x, y, n)
      const seconds = (performance.now() - started) / 1000
      // The first step compiles kernels and allocates; it is timed only when it is the only one there is time for.
      if (step > 0) {
        times.push(seconds)
        spent += seconds
      }
      ctx.progress(step + 1, 4, step === 0 ? 'Warm-up step done' : `Step ${step} took ${seconds.toFixed(2)} s`)
      if (step === 0 && seconds > ESTIMATE_BUDGET_SECONDS) {
        times.push(seconds)
        break
      }
    }
    const stepSeconds = times.reduce((a, b) => a + b, 0) / times.length
    const trainBatches = Math.ceil(Math.max(1, params.trainPhotos) / n)
    const valBatches = Math.ceil(Math.max(1, params.valPhotos) / n)
    const epochSeconds = stepSeconds * (trainBatches + valBatches / 3)
    return { stepSeconds, steps: times.length, epochSeconds, totalSeconds: epochSeconds * c.epochs, backend: opened.info.backend, device: opened.info.device }
  } finally {
    await opened.close()
  }
}
