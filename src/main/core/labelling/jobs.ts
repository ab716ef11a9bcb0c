// Pre-labelling: a run predicts a dataset's photos that have no mask a person made, and each prediction
// becomes the photo's mask, marked model-made, with the run's probabilities and how unsure the run was, and with
// its leaves when the run separates them.
import { dirname, join, relative } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { ApiError, errorMessage } from '../../../shared/errors'
import type { JobHandler } from '../jobs/context'
import { readRaster } from '../imaging/raster'
import { predictPhoto, type ProbabilityMap } from '../model/tiling'
import { maskFromProbabilities, writeProbabilityPng } from '../model/mask'
import { runPredictor } from '../training/checkpoint'
import { datasetPhotos, getPhoto } from '../datasets/records'
import { getRun } from '../training/records'
import { saveClassifierMask, saveModelMask } from './masks'
import { getClassifierRecord } from './records'
import { readClassifierFile } from './classifier-files'
import { classifyPixels, unsureShare } from './pixel-classifier'
import { separateLeaves } from '../model/instances'
import { binaryOfIds } from '../datasets/instances'
import { maxLeavesPerPhoto } from '../../../shared/bounds'
import { unsureBand } from './grabcut'
import { whileWriting } from '../store/pending'

const threshold = 0.5

/** Share of pixels whose probability lies in the unsure band: the review queue's order. */
export function uncertainty(map: ProbabilityMap): number {
  let unsure = 0
  for (const p of map.data) if (p >= unsureBand.low && p <= unsureBand.high) unsure++
  return map.data.length ? unsure / map.data.length : 0
}

export const prelabelJob: JobHandler<'prelabel'> = async ({ datasetId, runId }, ctx) => {
  const { project, signal } = ctx
  // photos with no mask, or only a run's that no person has checked yet
  const photos = datasetPhotos(project.db, datasetId).filter((p) => !p.mask || p.mask.modelMade)
  const problems: { path: string; reason: string }[] = []
  let labelled = 0
  let kept = 0
  if (photos.length === 0) return { labelled, kept, problems }
  const { model, predictor, options } = await runPredictor(project, runId, 'best')
  await mkdir(project.path('masks'), { recursive: true })
  try {
    for (const [i, photo] of photos.entries()) {
      signal.throwIfAborted()
      ctx.progress(i, photos.length, photo.name)
      try {
        const rgb = await readRaster(join(project.dir, photo.file), 3)
        const map = await predictPhoto(predictor, rgb, { ...options, signal, photo: photo.name })
        const probabilityPath = project.path('masks', `${photo.id}.run-${runId}.probability.png`)
        await writeProbabilityPng(probabilityPath, map)
        // A run that separates leaves labels its leaves too; the mask is then their union (leaves cover it exactly, as an import's do).
        const separated = map.centre && separateLeaves(map, { threshold }).ids
        // The stored leaves hold at most 255 a photo: a prediction with more keeps only its mask.
        const leaves = separated && separated.reduce((max, v) => Math.max(max, v), 0) <= maxLeavesPerPhoto ? separated : undefined
        const mask = leaves ? binaryOfIds(leaves) : maskFromProbabilities(map.data, rgb.width, rgb.height, threshold).data
        const probabilityFile = relative(project.dir, probabilityPath).split('\\').join('/')
        if (await saveModelMask(project, photo.id, mask, { runId, probabilityFile, uncertainty: uncertainty(map) }, leaves ?? null)) labelled++
        else kept++
      } catch (err) {
        if (signal.aborted || err instanceof ApiError) throw err
        problems.push({ path: photo.name, reason: errorMessage(err) })
      }
    }
    ctx.progress(photos.length, photos.length)
    return { labelled, kept, problems }
  } finally {
    model.dispose()
  }
}

/**
 * Where the model assist keeps a run's prediction of a photo the run did not pre-label (one whose mask a person
 * made or imported): in the run's folder, so it goes when the run does, by the best checkpoint's epoch and the
 * photo's content, so a resumed run or a replaced photo is predicted again.
 */
export function assistPredictionFile(run: { id: number; bestEpoch: number | null }, photoHash: string): string {
  return `runs/${run.id}/assist/epoch-${run.bestEpoch ?? 0}/${photoHash}.probability.png`
}

/** How long the assist's model stays loaded after its last prediction: a person labels photo after photo. */
const assistModelIdleMs = 120_000
let assistModel: { key: string; loaded: Promise<Awaited<ReturnType<typeof runPredictor>>>; users: number; timer: NodeJS.Timeout | null } | null = null

/**
 * The run's best model for the assist, loaded once and kept while photos are asked for (a person moves from photo
 * to photo: each would otherwise load the model again); another run or checkpoint replaces it, and it is let go
 * after assistModelIdleMs unused. `use` runs with it; the model is disposed only when no prediction uses it.
 */
async function withAssistModel<T>(
  project: { dir: string },
  run: { id: number; bestEpoch: number | null },
  use: (m: Awaited<ReturnType<typeof runPredictor>>) => Promise<T>,
  load: () => ReturnType<typeof runPredictor>
): Promise<T> {
  const key = JSON.stringify([project.dir, run.id, run.bestEpoch])
  if (assistModel?.key !== key) {
    releaseAssistModel()
    assistModel = { key, loaded: load(), users: 0, timer: null }
  }
  const held = assistModel
  held.users++
  if (held.timer) clearTimeout(held.timer)
  held.timer = null
  try {
    return await use(await held.loaded)
  } catch (err) {
    // a model that failed to load is not kept
    if (
      assistModel === held &&
      (await held.loaded.then(
        () => false,
        () => true
      ))
    )
      assistModel = null
    throw err
  } finally {
    held.users--
    if (assistModel !== held) {
      if (held.users === 0)
        void held.loaded.then(
          (m) => m.model.dispose(),
          () => undefined
        )
    } else if (held.users === 0) {
      held.timer = setTimeout(releaseAssistModel, assistModelIdleMs)
      held.timer.unref()
    }
  }
}

function releaseAssistModel(): void {
  const held = assistModel
  assistModel = null
  if (!held) return
  if (held.timer) clearTimeout(held.timer)
  if (held.users === 0)
    void held.loaded.then(
      (m) => m.model.dispose(),
      () => undefined
    )
}

export const assistPredictionJob: JobHandler<'assist-prediction'> = async ({ runId, photoId }, ctx) => {
  const { project, signal } = ctx
  const photo = getPhoto(project.db, photoId)
  const run = getRun(project.db, runId)
  const probabilityFile = assistPredictionFile(run, photo.hash)
  return withAssistModel(
    project,
    run,
    async ({ predictor, options }) => {
      ctx.progress(0, 1, photo.name)
      const rgb = await readRaster(join(project.dir, photo.file), 3)
      const map = await predictPhoto(predictor, rgb, { ...options, signal, photo: photo.name })
      await mkdir(dirname(join(project.dir, probabilityFile)), { recursive: true })
      await writeProbabilityPng(join(project.dir, probabilityFile), map)
      ctx.progress(1, 1, photo.name)
      return { probabilityFile }
    },
    () => runPredictor(project, runId, 'best')
  )
}

/**
 * The dataset's pixel classifier labels its photos that have no mask a person made: each prediction becomes the
 * photo's mask, model-made by the classifier, with its probabilities and how unsure it was (the review order).
 */
export const classifyJob: JobHandler<'classify'> = async ({ datasetId }, ctx) => {
  const { project, signal } = ctx
  const record = getClassifierRecord(project.db, datasetId)
  if (!record) throw new ApiError('bad_input', 'The dataset has no pixel classifier yet: paint leaf and background strokes and train it first.')
  const classifier = await readClassifierFile(join(project.dir, record.file))
  const photos = datasetPhotos(project.db, datasetId).filter((p) => !p.mask || p.mask.modelMade)
  const problems: { path: string; reason: string }[] = []
  let labelled = 0
  let kept = 0
  await mkdir(project.path('masks'), { recursive: true })
  for (const [i, photo] of photos.entries()) {
    signal.throwIfAborted()
    ctx.progress(i, photos.length, photo.name)
    try {
      const rgb = await readRaster(join(project.dir, photo.file), 3)
      const p = classifyPixels(classifier, rgb)
      const probabilityFile = `masks/${photo.id}.classifier.probability.png`
      const mask = maskFromProbabilities(p, rgb.width, rgb.height, threshold).data
      const saved = await whileWriting(project.db, [probabilityFile], async () => {
        await writeProbabilityPng(join(project.dir, probabilityFile), { width: rgb.width, height: rgb.height, data: p })
        return saveClassifierMask(project, photo.id, mask, { probabilityFile, uncertainty: unsureShare(p) })
      })
      if (saved) labelled++
      else kept++
    } catch (err) {
      if (signal.aborted || err instanceof ApiError) throw err
      problems.push({ path: photo.name, reason: errorMessage(err) })
    }
    // a photo takes a while on a large dataset: yield, so a cancel is seen between photos
    await new Promise((resolve) => setImmediate(resolve))
  }
  ctx.progress(photos.length, photos.length)
  return { labelled, kept, problems }
}
