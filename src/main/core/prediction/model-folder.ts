// A model folder (no project, no run) applied to a folder of photos: a mask per photo and its measurements.
import { mkdir, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ApiError, errorMessage } from '../../../shared/errors'
import type { ApiResult } from '../../../shared/api'
import type { FolderPrediction } from '../../../shared/api/prediction'
import { writePng } from '../imaging/raster'
import { readAhead } from './read-ahead'
import { fullResolution, predictPhoto } from '../model/tiling'
import { maskFromProbabilities } from '../model/mask'
import { maskNames, SHARD_MANIFEST, shardPhotos, writeShardManifest, type ShardManifest } from './shards'
import { leafTraits } from './traits'
import { measureLeaves } from './measure'
import { separateLeaves } from '../model/instances'
import { leavesCsvPath, measurementRow, writeLeavesCsv, writeMeasurementsCsv, type MeasurementRow } from './csv'

export async function predictWithModelFolder(
  req: FolderPrediction,
  onProgress: (done: number, total: number, message: string) => void
): Promise<ApiResult<'predictions.fromModel'>> {
  const source = req.list !== undefined ? { list: req.list } : { images: req.images! }
  const { all, files: scanned } = await shardPhotos(source, req.shard)
  const files = scanned.filter((f) => !f.problem)
  const problems = scanned.filter((f) => f.problem).map((f) => ({ path: f.path, reason: f.problem!.message }))
  if (files.length === 0 && !req.shard) throw new ApiError('bad_input', `No photos in ${req.list ?? req.images}.`)
  const { loadInferenceModel } = await import('../model/inference') // tfjs and onnxruntime only when a model is used
  const model = await loadInferenceModel(req.model)
  // A shard run again into a finished shard's folder: its old manifest goes first, so a rerun that is killed is
  // not taken for a finished shard (with the old model's rows) by merge.
  if (req.shard) await rm(join(req.out, SHARD_MANIFEST), { force: true })
  const names = maskNames(all, req.list !== undefined ? dirname(req.list) : req.images!)
  const maskPath = async (photo: string) => {
    const file = join(req.out, names.get(photo)!.mask)
    await mkdir(dirname(file), { recursive: true })
    return file
  }
  const rows: MeasurementRow[] = []
  const predicted: ShardManifest['predicted'] = []
  try {
    await mkdir(req.out, { recursive: true })
    const { predictor, options } = fullResolution(model)
    for await (const { item: f, index: i, photo, error } of readAhead(files, (f) => f.path)) {
      // A photo that fails is listed with its reason; the others go on.
      try {
        if (!photo) throw error!
        const map = await predictPhoto(predictor, photo, { ...options, photo: f.path })
        const mask = maskFromProbabilities(map.data, photo.width, photo.height, req.threshold)
        await writePng(await maskPath(f.path), mask)
        const instances = map.centre && separateLeaves(map, { threshold: req.threshold }).ids
        const measured = measureLeaves(mask, { minLeafAreaPx: req.measure.minLeafAreaPx, pixelsPerMm: req.measure.pxPerMm ?? undefined, instances })
        const traits = leafTraits(mask, photo, { minLeafAreaPx: req.measure.minLeafAreaPx, pixelsPerMm: req.measure.pxPerMm, photo: f.path, instances })
        const row = {
          ...measurementRow(names.get(f.path)!.photo, measured, { source: 'predicted', runId: req.model, threshold: req.threshold }),
          traits: traits.photo
        }
        rows.push(row)
        predicted.push({ path: f.path, row, leaves: traits.leaves })
      } catch (err) {
        problems.push({ path: f.path, reason: errorMessage(err) })
      }
      onProgress(i + 1, files.length, `${basename(f.path)} · ${model.engine}`)
    }
  } finally {
    model.dispose()
  }
  const csv = req.csv ?? (req.shard ? join(req.out, 'measurements.csv') : undefined)
  if (csv) {
    await writeMeasurementsCsv(csv, rows)
    await writeLeavesCsv(
      leavesCsvPath(csv),
      predicted.map((p) => ({ photo: p.row.photo, leaves: p.leaves, scalePxPerMm: req.measure.pxPerMm })),
      model.meta?.instances === true
    )
  }
  // The manifest is written last: a shard folder with one is a finished shard.
  if (req.shard)
    await writeShardManifest(req.out, {
      shard: req.shard,
      model: req.model,
      threshold: req.threshold,
      photos: scanned.map((f) => f.path),
      predicted,
      problems,
      engine: model.engine
    })
  const shard = req.shard ? { ...req.shard, photos: scanned.length } : null
  return { masks: rows.length, out: req.out, csv: csv ?? null, problems, measurements: rows, engine: model.engine, shard }
}
