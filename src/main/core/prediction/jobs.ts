// Prediction jobs: a run's model predicts photos (a dataset's or a folder's) at full resolution, with masks,
// probability maps, optional cutouts and leaf measurements; and measuring a dataset's own masks.
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { basename, extname, join, relative } from 'node:path'
import { createHash } from 'node:crypto'
import { ApiError, errorMessage } from '../../../shared/errors'
import type { MeasurementSettings } from '../../../shared/api/prediction'
import type { TrimapChoice } from '../../../shared/domain'
import { defaultTrimapChoice } from '../../../shared/bounds'
import type { JobContext, JobHandler } from '../jobs/context'
import type { Project } from '../project'
import type { Db } from '../store/database'
import { readRaster, writePng, type Raster } from '../imaging/raster'
import { predictPhoto } from '../model/tiling'
import { maskFromProbabilities, writeProbabilityPng } from '../model/mask'
import { datasetPhotos, getPhoto, setMask } from '../datasets/records'
import { hashFile, scanPhotos } from '../datasets/photos'
import { stemOf } from '../datasets/util'
import { runModelDir, runPredictor } from '../training/checkpoint'
import { makeTrimap } from '../matting/trimap'
import { closedFormMatte } from '../matting/closedForm'
import { estimateForeground, makeCutout } from '../matting/foreground'
import { measureLeaves } from './measure'
import { measurementRow, writeMeasurementsCsv, type MeasurementRow } from './csv'
import {
  batchDone,
  batchPhotos,
  batchProblems,
  batchTraits,
  deleteBatch,
  getBatch,
  markAccepted,
  recordBatchProblem,
  recordPredictedPhoto,
  startBatch
} from './records'
import { readAhead } from './read-ahead'
import { whileWriting } from '../store/pending'
import { leafTraits } from './traits'
import { separateLeaves } from '../model/instances'
import { binaryOfIds, readInstanceFile, readInstanceIds, writeInstanceIds } from '../datasets/instances'
import { maxLeavesPerPhoto } from '../../../shared/bounds'

const rel = (project: Project, path: string) => relative(project.dir, path).split('\\').join('/')

/** A cutout from a predicted mask, through the matting step: trimap (the batch's settings), closed-form alpha, leaf colours. */
async function cutoutFromMask(rgb: { width: number; height: number; data: Uint8Array }, mask: Uint8Array, trimapChoice: TrimapChoice, signal: AbortSignal) {
  const trimap = makeTrimap(mask, rgb.width, rgb.height, trimapChoice)
  const { alpha } = closedFormMatte(rgb.data, trimap, rgb.width, rgb.height, { signal })
  const { foreground } = estimateForeground(rgb.data, alpha, rgb.width, rgb.height, { signal })
  return makeCutout(rgb.data, alpha, rgb.width, rgb.height, foreground)
}

/** A prediction's leaves in the stored leaf-id format, for the viewer and for accepting it; null (not written) above 255 leaves. */
async function writeLeaves(path: string, ids: Uint16Array, photo: { width: number; height: number }): Promise<string | null> {
  const count = ids.reduce((max, v) => Math.max(max, v), 0)
  if (count > maxLeavesPerPhoto) return null
  await writeInstanceIds(path, { width: photo.width, height: photo.height, ids, count })
  return path
}

/**
 * The request as the user made it (its folder checked), plus the batch it fills. A resumed batch skips the photos
 * it already has (same content hash: the batch fixes the run); a photo that fails is recorded with its reason
 * and the others go on. A new batch whose job fails or is cancelled before predicting any photo is removed
 * (the job keeps the error), so that the list shows no empty batch.
 */
export const predictJob: JobHandler<'predict'> = async (params, ctx) => {
  const db = ctx.project.db
  const noPhotos = () => batchDone(db, params.batchId).hashes.size === 0
  const fresh = noPhotos() && batchProblems(db, params.batchId).length === 0
  try {
    return await predictIntoBatch(params, ctx)
  } catch (err) {
    if (fresh && noPhotos()) {
      deleteBatch(db, params.batchId)
      await rm(ctx.project.path('predictions', String(params.batchId)), { recursive: true, force: true })
    }
    throw err
  }
}

const predictIntoBatch: JobHandler<'predict'> = async (params, ctx) => {
  const { project, signal } = ctx
  const db = project.db
  const inputs: { name: string; path: string; photoId: number | null; photoFile: string | null; hash: string | null }[] = []
  const unreadable: { path: string; reason: string }[] = []
  if (params.source.kind === 'dataset') {
    for (const p of datasetPhotos(db, params.source.datasetId))
      inputs.push({ name: p.name, path: join(project.dir, p.file), photoId: p.id, photoFile: p.file, hash: p.hash })
  } else {
    const scan = await scanPhotos([params.source.dir], { signal })
    for (const f of scan.files) {
      if (f.problem) unreadable.push({ path: f.path, reason: f.problem.message })
      else inputs.push({ name: basename(f.path), path: f.path, photoId: null, photoFile: null, hash: null })
    }
  }
  if (inputs.length === 0 && unreadable.length === 0)
    throw new ApiError('bad_input', `No photos to predict in ${params.source.kind === 'folder' ? params.source.dir : 'this dataset'}.`)
  startBatch(db, params.batchId, inputs.length + unreadable.length)
  const problems: { path: string; reason: string }[] = []
  const problem = (p: { path: string; reason: string }) => {
    problems.push(p)
    recordBatchProblem(db, params.batchId, p)
  }
  unreadable.forEach(problem)
  const done = batchDone(db, params.batchId)
  const todo: typeof inputs = []
  let skipped = 0
  for (const [i, input] of inputs.entries()) {
    signal.throwIfAborted()
    if (done.hashes.size > 0) ctx.progress(i, inputs.length, `Checking ${input.name} against the photos already predicted`)
    try {
      input.hash ??= await hashFile(input.path, signal)
    } catch (err) {
      if (signal.aborted) throw err
      problem({ path: input.path, reason: `Cannot read ${input.path}: ${(err as Error).message}` })
      continue
    }
    if (done.hashes.has(input.hash)) skipped++
    else todo.push(input)
  }
  if (todo.length === 0) return { batchId: params.batchId, photos: 0, skipped, problems, engine: 'none' }
  const { model, predictor, options } = await runPredictor(project, params.runId, params.checkpoint)
  const dir = project.path('predictions', String(params.batchId))
  await mkdir(join(dir, 'photos'), { recursive: true })
  // Mask files are named after their photo, made unique within the batch (the earlier jobs' names included).
  const used = new Set(done.maskFiles.map((f) => basename(f, '.png')))
  let predicted = 0
  try {
    for await (const { item: input, index: i, photo, error } of readAhead(todo, (input) => input.path)) {
      signal.throwIfAborted()
      // Progress counts this job's photos only, so that the ETA follows this job's pace.
      ctx.progress(i, todo.length, `${input.name} · ${model.engine}${skipped ? ` (${skipped} done before)` : ''}`)
      try {
        if (!photo) throw error!
        const rgb = photo
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
            await writePng(cutout, await cutoutFromMask(rgb, mask.data, params.trimap ?? defaultTrimapChoice, signal))
            cutoutFile = rel(project, cutout)
          } catch (err) {
            if (signal.aborted) throw err
            problem({ path: input.path, reason: `No cutout: ${(err as Error).message}` })
          }
        }
        const instances = map.centre && separateLeaves(map, { threshold: params.threshold }).ids
        const leavesFile = instances ? await writeLeaves(join(dir, `${stem}.instances.png`), instances, rgb) : null
        const m = measureLeaves(mask, {
          minLeafAreaPx: params.measure.minLeafAreaPx,
          pixelsPerMm: params.measure.pxPerMm ?? undefined,
          photo: input.name,
          instances
        })
        const traits = leafTraits(mask, rgb, { minLeafAreaPx: params.measure.minLeafAreaPx, pixelsPerMm: params.measure.pxPerMm, photo: input.name, instances })
        recordPredictedPhoto(project.db, params.batchId, {
          name: input.name,
          sourcePath: input.photoId === null ? input.path : null,
          photoId: input.photoId,
          photoFile,
          maskFile: rel(project, maskFile),
          probabilityFile: rel(project, probabilityFile),
          cutoutFile,
          leavesFile: leavesFile && rel(project, leavesFile),
          photoHash: input.hash!,
          traits: traits.photo,
          leafTraits: traits.leaves,
          width: rgb.width,
          height: rgb.height,
          areaPx: m.areaPx,
          areaMm2: m.areaMm2,
          foregroundFraction: m.foregroundFraction,
          leafCount: m.leafCount,
          noisePx: m.noisePx
        })
        predicted++
      } catch (err) {
        if (signal.aborted || err instanceof ApiError) throw err
        problem({ path: input.path, reason: errorMessage(err) })
      }
    }
    ctx.progress(todo.length, todo.length)
    return { batchId: params.batchId, photos: predicted, skipped, problems, engine: model.engine }
  } finally {
    model.dispose()
  }
}

/** The batch's measurements as CSV rows, with the run and the settings that made them. */
export function batchCsvRows(db: Db, batchId: number): MeasurementRow[] {
  const batch = getBatch(db, batchId)
  const traits = new Map(batchTraits(db, batchId).map((p) => [p.id, p.traits]))
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
    leavesSeparated: batch.separatesLeaves,
    source: 'predicted',
    runId: String(batch.runId),
    threshold: batch.threshold,
    traits: traits.get(p.id) ?? null
  }))
}

/** Copy a batch's masks (and cutouts) into a folder, named like the files in the project. */
export async function exportBatchMasks(project: Project, batchId: number, dir: string): Promise<{ written: number; dir: string }> {
  getBatch(project.db, batchId)
  await mkdir(dir, { recursive: true })
  let written = 0
  for (const p of batchPhotos(project.db, batchId)) {
    for (const file of [p.maskFile, p.cutoutFile]) {
      if (!file) continue
      await copyFile(join(project.dir, file), join(dir, basename(file)))
      written++
    }
  }
  return { written, dir }
}

/**
 * Predicted masks become the photos' labels, marked model-made until a person confirms or edits them.
 * A photo that already has a hand-made (or confirmed) mask keeps it: a model never overwrites a person's work.
 */
export async function acceptPredictions(project: Project, batchId: number, photoIds?: number[]): Promise<{ accepted: number; kept: string[] }> {
  const batch = getBatch(project.db, batchId)
  if (batch.source !== 'dataset')
    throw new ApiError('bad_input', 'Only predictions for a dataset’s photos can become their labels; import a folder as a dataset first.')
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
    // A run that separates leaves gives its leaves too; the mask is then their union (leaves cover it exactly, as an import's do).
    const leaves = p.leavesFile ? await readInstanceFile(join(project.dir, p.leavesFile)) : null
    const mask: Raster = leaves
      ? { width: leaves.width, height: leaves.height, channels: 1, data: binaryOfIds(leaves.ids) }
      : await readRaster(join(project.dir, p.maskFile), 1)
    const target = project.path('masks', `${p.photoId}.png`)
    const leavesTarget = leaves ? project.path('masks', `${p.photoId}.instances.png`) : null
    // listed as being written until recorded, so a clean-up meanwhile leaves them
    await whileWriting(
      project.db,
      [target, ...(leavesTarget ? [leavesTarget] : [])].map((f) => rel(project, f)),
      async () => {
        await writePng(target, mask)
        if (leaves && leavesTarget) await writeInstanceIds(leavesTarget, leaves)
        setMask(project.db, p.photoId!, {
          file: rel(project, target),
          instancesFile: leavesTarget ? rel(project, leavesTarget) : null,
          leaves: leaves?.count ?? null,
          hash: createHash('sha256').update(mask.data).digest('hex'),
          source: 'predicted',
          madeBy: 'model-made',
          foreground: p.foregroundFraction,
          modelMade: true
        })
      }
    )
    markAccepted(project.db, p.id)
    accepted++
  }
  return { accepted, kept }
}

export async function measureLabelledJob(
  params: { datasetId: number; file: string; measure: MeasurementSettings },
  ctx: JobContext<'measure'>
): Promise<{ file: string; rows: number }> {
  const { project, signal } = ctx
  const photos = datasetPhotos(project.db, params.datasetId).filter((p) => p.mask)
  if (photos.length === 0) throw new ApiError('bad_input', 'No photo in this dataset has a mask to measure.')
  const rows: MeasurementRow[] = []
  // Leaves are counted where every mask tells its leaves apart (the CSV's leaf_count); otherwise all count regions.
  const separated = photos.every((p) => p.mask!.instancesFile)
  for (const [i, p] of photos.entries()) {
    signal.throwIfAborted()
    const mask = await readRaster(join(project.dir, p.mask!.file), 1)
    const instances = separated ? (await readInstanceIds(project, p.id))!.ids : undefined
    const m = measureLeaves(mask, { minLeafAreaPx: params.measure.minLeafAreaPx, pixelsPerMm: params.measure.pxPerMm ?? undefined, photo: p.name, instances })
    rows.push(measurementRow(p.name, m, { source: 'labelled' }))
    ctx.progress(i + 1, photos.length, p.name)
  }
  await writeMeasurementsCsv(params.file, rows)
  return { file: params.file, rows: rows.length }
}

/** A run's checkpoint written as an ONNX file (built from the network's layers and weights). */
export const exportOnnxJob: JobHandler<'export-onnx'> = async (params, ctx) => {
  const dir = runModelDir(ctx.project, params.runId, params.checkpoint)
  ctx.progress(0, 1, 'Loading the model')
  // tfjs loads only in the job process, when a model is used.
  const [{ initBackend }, { loadModelFiles }, { writeOnnxFile }] = await Promise.all([
    import('../model/backend'),
    import('../model/model-io'),
    import('../model/onnx-export')
  ])
  await initBackend()
  const model = await loadModelFiles(dir)
  try {
    const written = await writeOnnxFile(model, params.file)
    ctx.progress(1, 1)
    return written
  } finally {
    model.dispose()
  }
}
