// Evaluation and prediction jobs: a run's model predicts at full resolution (tiled at the scale it was trained at),
// probabilities are stored per photo, and figures or leaf measurements follow from them.
import { copyFile, mkdir } from 'node:fs/promises'
import { basename, extname, join, relative } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { EvaluationSource, MeasurementSettings } from '../../../shared/api/evaluation'
import type { ApiArgs } from '../../../shared/api'
import type { JobContext } from '../jobs/context'
import type { Project } from '../project'
import type { Db } from '../store/database'
import { readRaster, writePng } from '../imaging/raster'
import type { Predictor as ModelPredictor } from '../ml'
import { maskFromProbabilities, measureLeaves, measurementRow, predictPhoto, probabilityHistogram, writeMeasurementsCsv, writeProbabilityPng, type MeasurementRow, type PredictOptions, type Predictor } from '../eval'
import { datasetPhotos, getDataset, getPhoto, setMask } from '../datasets/records'
import { scanPhotos } from '../datasets/photos'
import { stemOf } from '../datasets/util'
import { getRun, runSnapshot } from '../training/records'
import { makeTrimap } from '../matting/trimap'
import { closedFormMatte } from '../matting/closedForm'
import { estimateForeground, makeCutout } from '../matting/foreground'
import { createHash } from 'node:crypto'
import { batchPhotos, getBatch, recordEvaluationPhoto, recordPredictedPhoto } from './records'

const rel = (project: Project, path: string) => relative(project.dir, path).split('\\').join('/')

/**
 * A loaded model as a full-resolution predictor: one trained on whole photos squeezed to its input predicts
 * the same way; one trained on crops tiles the photo at the scale it was trained at, so a 4000×3000 photo
 * keeps its detail.
 */
export function fullResolution(model: ModelPredictor): { predictor: Predictor; options: PredictOptions } {
  const sampling = model.meta?.sampling
  const options: PredictOptions = sampling?.mode === 'crops' ? { mode: 'tiled', scale: sampling.scale, overlap: 0.25 } : { mode: sampling ? 'resize' : 'tiled' }
  return { predictor: { inputSize: model.inputSize, predictBatch: async (rgb, n) => model.predictBatch(rgb, n) }, options }
}

/** The run's checkpoint as a full-resolution predictor. */
export async function runPredictor(project: Project, runId: number, checkpoint: 'best' | 'last'): Promise<{ model: ModelPredictor; predictor: Predictor; options: PredictOptions }> {
  const run = getRun(project.db, runId)
  const folder = checkpoint === 'best' ? run.bestModel : run.lastModel
  if (!folder) throw new ApiError('bad_input', `Run “${run.name}” has no ${checkpoint} checkpoint yet: train it for at least one epoch.`)
  // tfjs loads here, in the job process, on first use: the main process and CLI start-up never pay for it.
  const { createPredictor } = await import('../ml')
  const model = await createPredictor(join(project.dir, folder))
  return { model, ...fullResolution(model) }
}

interface EvaluationItem {
  photoId: number
  name: string
  photoFile: string
  maskFile: string
}

export function evaluationItems(db: Db, runId: number, source: EvaluationSource, datasetId?: number): { items: EvaluationItem[]; datasetName: string } {
  const run = getRun(db, runId)
  if (source === 'val') {
    const items = runSnapshot(db, runId).filter((p) => p.split === 'val').map((p) => ({ photoId: p.photoId, name: p.name, photoFile: p.photoFile, maskFile: p.maskFile }))
    if (items.length === 0) throw new ApiError('bad_input', `Run “${run.name}” has no validation photos.`)
    return { items, datasetName: `${run.datasetName} (validation photos of the run)` }
  }
  const id = source === 'test' ? run.datasetId : datasetId
  if (id == null) throw new ApiError('bad_input', source === 'test' ? `The dataset of run “${run.name}” was deleted.` : 'Choose a dataset to evaluate on.')
  const dataset = getDataset(db, id)
  const items = datasetPhotos(db, id)
    .filter((p) => p.mask && (source === 'dataset' || p.split === 'test'))
    .map((p) => ({ photoId: p.id, name: p.name, photoFile: p.file, maskFile: p.mask!.file }))
  if (items.length === 0) {
    throw new ApiError('bad_input', source === 'test' ? `“${dataset.name}” has no test photos with masks: assign a test split first.` : `“${dataset.name}” has no photos with masks.`)
  }
  return { items, datasetName: source === 'test' ? `${dataset.name} (test split)` : dataset.name }
}

export async function evaluateJob(
  params: { evaluationId: number; runId: number; checkpoint: 'best' | 'last'; source: EvaluationSource; datasetId?: number },
  ctx: JobContext
): Promise<{ evaluationId: number; photos: number }> {
  const { project, signal } = ctx
  const { items } = evaluationItems(project.db, params.runId, params.source, params.datasetId)
  const { model, predictor, options } = await runPredictor(project, params.runId, params.checkpoint)
  const dir = project.path('runs', String(params.runId), 'evaluations', String(params.evaluationId))
  await mkdir(dir, { recursive: true })
  try {
    for (const [i, item] of items.entries()) {
      signal.throwIfAborted()
      ctx.progress(i, items.length, item.name)
      const photo = await readRaster(join(project.dir, item.photoFile), 3)
      const truth = await readRaster(join(project.dir, item.maskFile), 1)
      if (truth.width !== photo.width || truth.height !== photo.height) throw new ApiError('bad_input', `The mask of ${item.name} does not match its photo's size.`)
      const map = await predictPhoto(predictor, photo, { ...options, signal, photo: item.name })
      const file = join(dir, `${item.photoId}.png`)
      await writeProbabilityPng(file, map)
      recordEvaluationPhoto(project.db, params.evaluationId, { ...item, probabilityFile: rel(project, file), histogram: probabilityHistogram(map.data, truth, item.name) })
    }
    ctx.progress(items.length, items.length)
    return { evaluationId: params.evaluationId, photos: items.length }
  } finally {
    model.dispose()
  }
}

/** A cutout from a predicted mask, through the matting step: trimap (the seed's settings), closed-form alpha, leaf colours. */
async function cutoutFromMask(rgb: { width: number; height: number; data: Uint8Array }, mask: Uint8Array, signal: AbortSignal) {
  const trimap = makeTrimap(mask, rgb.width, rgb.height)
  const { alpha } = closedFormMatte(rgb.data, trimap, rgb.width, rgb.height, { signal })
  const { foreground } = estimateForeground(rgb.data, alpha, rgb.width, rgb.height, { signal })
  return makeCutout(rgb.data, alpha, rgb.width, rgb.height, foreground)
}

/** The request as the user made it (its folder checked), plus the batch it fills. */
export type PredictParams = ApiArgs<'predictions.start'> & { batchId: number }

export async function predictJob(params: PredictParams, ctx: JobContext): Promise<{ batchId: number; photos: number; problems: { path: string; reason: string }[] }> {
  const { project, signal } = ctx
  const inputs: { name: string; path: string; photoId: number | null; photoFile: string | null }[] = []
  const problems: { path: string; reason: string }[] = []
  if (params.source.kind === 'dataset') {
    for (const p of datasetPhotos(project.db, params.source.datasetId)) inputs.push({ name: p.name, path: join(project.dir, p.file), photoId: p.id, photoFile: p.file })
  } else {
    const scan = await scanPhotos([params.source.dir], { signal })
    for (const f of scan.files) {
      if (f.problem) problems.push({ path: f.path, reason: f.problem.message })
      else inputs.push({ name: basename(f.path), path: f.path, photoId: null, photoFile: null })
    }
  }
  if (inputs.length === 0) throw new ApiError('bad_input', `No photos to predict in ${params.source.kind === 'folder' ? params.source.dir : 'this dataset'}.`)
  const { model, predictor, options } = await runPredictor(project, params.runId, params.checkpoint)
  const dir = project.path('predictions', String(params.batchId))
  await mkdir(join(dir, 'photos'), { recursive: true })
  const used = new Set<string>()
  try {
    for (const [i, input] of inputs.entries()) {
      signal.throwIfAborted()
      ctx.progress(i, inputs.length, input.name)
      try {
        const rgb = await readRaster(input.path, 3)
        const map = await predictPhoto(predictor, rgb, { ...options, signal, photo: input.name })
        // Files are named after the photo (made unique when two photos share a name).
        let stem = stemOf(input.name)
        for (let k = 2; used.has(stem); k++) stem = `${stemOf(input.name)}-${k}`
        used.add(stem)
        const probabilityFile = join(dir, `${stem}.probability.png`)
        const maskFile = join(dir, `${stem}.png`)
        await writeProbabilityPng(probabilityFile, map)
        const mask = maskFromProbabilities(map.data, rgb.width, rgb.height, params.threshold)
        await writePng(maskFile, mask)
        let photoFile = input.photoFile
        if (!photoFile) {
          // A folder's photos are copied in, so the results stay viewable when the folder moves.
          const copy = join(dir, 'photos', `${stem}${extname(input.path).toLowerCase()}`)
          await copyFile(input.path, copy)
          photoFile = rel(project, copy)
        }
        let cutoutFile: string | null = null
        if (params.cutouts) {
          try {
            const cutout = join(dir, `${stem}.cutout.png`)
            await writePng(cutout, await cutoutFromMask(rgb, mask.data, signal))
            cutoutFile = rel(project, cutout)
          } catch (err) {
            if (signal.aborted) throw err
            problems.push({ path: input.path, reason: `No cutout: ${(err as Error).message}` })
          }
        }
        const m = measureLeaves(mask, { minLeafAreaPx: params.measure.minLeafAreaPx, pixelsPerMm: params.measure.pxPerMm ?? undefined, photo: input.name })
        recordPredictedPhoto(project.db, params.batchId, {
          name: input.name,
          sourcePath: input.photoId === null ? input.path : null,
          photoId: input.photoId,
          photoFile,
          maskFile: rel(project, maskFile),
          probabilityFile: rel(project, probabilityFile),
          cutoutFile,
          width: rgb.width,
          height: rgb.height,
          areaPx: m.areaPx,
          areaMm2: m.areaMm2,
          foregroundFraction: m.foregroundFraction,
          leafCount: m.leafCount,
          noisePx: m.noisePx
        })
      } catch (err) {
        if (signal.aborted || err instanceof ApiError) throw err
        problems.push({ path: input.path, reason: (err as Error).message })
      }
    }
    ctx.progress(inputs.length, inputs.length)
    return { batchId: params.batchId, photos: inputs.length - problems.filter((p) => !p.reason.startsWith('No cutout')).length, problems }
  } finally {
    model.dispose()
  }
}

/** The batch's measurements as CSV rows, with the run and the settings that made them. */
export function batchCsvRows(db: Db, batchId: number): MeasurementRow[] {
  const batch = getBatch(db, batchId)
  return batchPhotos(db, batchId).map((p) => ({
    photo: p.name,
    width: p.width,
    height: p.height,
    areaPx: p.areaPx,
    areaMm2: p.areaMm2,
    foregroundFraction: p.foregroundFraction,
    leafCount: p.leafCount,
    minLeafAreaPx: batch.minLeafAreaPx,
    noisePx: p.noisePx,
    scalePxPerMm: batch.pxPerMm,
    source: 'predicted',
    runId: String(batch.runId),
    threshold: batch.threshold
  }))
}

/**
 * Predicted masks become the photos' labels, marked model-made until a person confirms or edits them.
 * A photo that already has a hand-made (or confirmed) mask keeps it: a model never overwrites a person's work.
 */
export async function acceptPredictions(project: Project, batchId: number, photoIds?: number[]): Promise<{ accepted: number; kept: string[] }> {
  const batch = getBatch(project.db, batchId)
  if (batch.source !== 'dataset') throw new ApiError('bad_input', 'Only predictions for a dataset’s photos can become their labels; import a folder as a dataset first.')
  const wanted = photoIds ? new Set(photoIds) : null
  let accepted = 0
  const kept: string[] = []
  await mkdir(project.path('masks'), { recursive: true })
  for (const p of batchPhotos(project.db, batchId)) {
    if (p.photoId === null || (wanted && !wanted.has(p.photoId))) continue
    const current = getPhoto(project.db, p.photoId).mask
    if (current && !current.modelMade) {
      kept.push(p.name)
      continue
    }
    const mask = await readRaster(join(project.dir, p.maskFile), 1)
    const target = project.path('masks', `${p.photoId}.png`)
    await writePng(target, mask)
    setMask(project.db, p.photoId, {
      file: rel(project, target),
      instancesFile: null,
      hash: createHash('sha256').update(mask.data).digest('hex'),
      source: 'predicted',
      foreground: p.foregroundFraction,
      modelMade: true
    })
    project.db.prepare('UPDATE predicted_photos SET accepted = 1 WHERE id = ?').run(p.id)
    accepted++
  }
  return { accepted, kept }
}

export async function measureLabelledJob(params: { datasetId: number; file: string; measure: MeasurementSettings }, ctx: JobContext): Promise<{ file: string; rows: number }> {
  const { project, signal } = ctx
  const photos = datasetPhotos(project.db, params.datasetId).filter((p) => p.mask)
  if (photos.length === 0) throw new ApiError('bad_input', 'No photo in this dataset has a mask to measure.')
  const rows: MeasurementRow[] = []
  for (const [i, p] of photos.entries()) {
    signal.throwIfAborted()
    const mask = await readRaster(join(project.dir, p.mask!.file), 1)
    const m = measureLeaves(mask, { minLeafAreaPx: params.measure.minLeafAreaPx, pixelsPerMm: params.measure.pxPerMm ?? undefined, photo: p.name })
    rows.push(measurementRow(p.name, m, { source: 'labelled' }))
    ctx.progress(i + 1, photos.length, p.name)
  }
  await writeMeasurementsCsv(params.file, rows)
  return { file: params.file, rows: rows.length }
}
