// A model folder (no project, no run) applied to a folder of photos: a mask per photo and its measurements.
import { mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { ApiResult } from '../../../shared/api'
import type { FolderPrediction } from '../../../shared/api/evaluation'
import { writePng } from '../imaging/raster'
import { readAhead } from './read-ahead'
import { fullResolution, predictPhoto } from '../model/tiling'
import { maskFromProbabilities } from '../model/mask'
import { scanPhotos } from '../datasets/photos'
import { stemOf } from '../datasets/util'
import { measureLeaves } from './measure'
import { measurementRow, writeMeasurementsCsv, type MeasurementRow } from './csv'

export async function predictWithModelFolder(
  req: FolderPrediction,
  onProgress: (done: number, total: number, message: string) => void
): Promise<ApiResult<'predictions.fromModel'>> {
  const scan = await scanPhotos([req.images])
  const files = scan.files.filter((f) => !f.problem)
  const problems = scan.files.filter((f) => f.problem).map((f) => ({ path: f.path, reason: f.problem!.message }))
  if (files.length === 0) throw new ApiError('bad_input', `No photos in ${req.images}.`)
  const { loadInferenceModel } = await import('../model/engine') // tfjs and onnxruntime only when a model is used
  const model = await loadInferenceModel(req.model)
  const rows: MeasurementRow[] = []
  try {
    await mkdir(req.out, { recursive: true })
    const { predictor, options } = fullResolution(model)
    for await (const { item: f, index: i, photo, error } of readAhead(files, (f) => f.path)) {
      // A photo that fails is listed with its reason; the others go on.
      try {
        if (!photo) throw error!
        const map = await predictPhoto(predictor, photo, { ...options, photo: f.path })
        const mask = maskFromProbabilities(map.data, photo.width, photo.height, req.threshold)
        await writePng(join(req.out, `${stemOf(f.path)}.png`), mask)
        const measured = measureLeaves(mask, { minLeafAreaPx: req.measure.minLeafAreaPx, pixelsPerMm: req.measure.pxPerMm ?? undefined })
        rows.push(measurementRow(basename(f.path), measured, { source: 'predicted', runId: req.model, threshold: req.threshold }))
      } catch (err) {
        problems.push({ path: f.path, reason: (err as Error).message })
      }
      onProgress(i + 1, files.length, `${basename(f.path)} · ${model.engine}`)
    }
  } finally {
    model.dispose()
  }
  if (req.csv) await writeMeasurementsCsv(req.csv, rows)
  return { masks: rows.length, out: req.out, csv: req.csv ?? null, problems, measurements: rows, engine: model.engine }
}
