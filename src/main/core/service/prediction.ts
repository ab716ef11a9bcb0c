// API area: prediction — a run's masks for new photos, their leaf measurements, batches that resume, shards
// for a cluster, and the ONNX export that carries a run to other tools.
import { z } from 'zod'
import type { PredictionApi } from '../../../shared/api/prediction'
import { ApiError } from '../../../shared/errors'
import { defaultTrimapChoice, minLeafAreaBounds } from '../../../shared/bounds'
import { getDataset } from '../datasets/records'
import { getRun } from '../training/records'
import { runModelDir } from '../training/checkpoint'
import { leavesCsvPath, writeLeavesCsv, writeMeasurementsCsv } from '../prediction/csv'
import {
  batchJobRunning,
  batchPhotos,
  batchProblems,
  batchTraits,
  batchRequest,
  createBatch,
  deleteBatch,
  getBatch,
  listBatches,
  setBatchJob
} from '../prediction/records'
import { acceptPredictions, batchCsvRows, exportBatchMasks } from '../prediction/jobs'
import { predictWithModelFolder } from '../prediction/model-folder'
import { maxShardCount, mergeShards } from '../prediction/shards'
import { checkOutputFile, checkOutputFolder } from '../store/output'
import { cleanProject } from '../store/clean'
import type { Methods, Schemas } from './area'
import { checkpoint, filePath, id, ids, pxPerMm, threshold, trimapChoice, whole } from './schema-parts'
import type { ServiceContext } from './context'

type K = keyof PredictionApi

/** Replace an existing output file; without it, one is refused (store/output.ts). */
const overwrite = z.boolean().optional()

const measure = z.object({ minLeafAreaPx: whole(minLeafAreaBounds), pxPerMm: pxPerMm.nullable() }).strict()

export const predictionSchemas: Schemas<K> = {
  'runs.exportOnnx': z.object({ runId: id, checkpoint, file: filePath, overwrite }).strict(),
  'predictions.start': z
    .object({
      runId: id,
      checkpoint,
      source: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('folder'), dir: filePath }).strict(),
        z.object({ kind: z.literal('dataset'), datasetId: id }).strict()
      ]),
      threshold,
      cutouts: z.boolean(),
      trimap: trimapChoice.optional(),
      measure
    })
    .strict(),
  'predictions.list': z.object({}).strict(),
  'predictions.photos': z.object({ batchId: id }).strict(),
  'predictions.problems': z.object({ batchId: id }).strict(),
  'predictions.traits': z.object({ batchId: id }).strict(),
  'predictions.resume': z.object({ batchId: id }).strict(),
  'predictions.exportCsv': z.object({ batchId: id, file: filePath, overwrite }).strict(),
  'predictions.measurements': z.object({ batchId: id }).strict(),
  'predictions.exportMasks': z.object({ batchId: id, dir: filePath }).strict(),
  'predictions.fromModel': z
    .object({
      model: filePath,
      images: filePath.optional(),
      list: filePath.optional(),
      shard: z
        .object({ index: z.number().int().min(1), count: z.number().int().min(1).max(maxShardCount) })
        .strict()
        .refine((s) => s.index <= s.count, 'the shard index is at most the count')
        .optional(),
      out: filePath,
      csv: filePath.optional(),
      overwrite,
      threshold,
      measure
    })
    .strict()
    .refine((r) => (r.images === undefined) !== (r.list === undefined), 'give either images (a folder) or list (a file of photo paths)'),
  'predictions.mergeShards': z.object({ dirs: z.array(filePath).min(1).max(100_000), csv: filePath, overwrite }).strict(),
  'predictions.accept': z.object({ batchId: id, photoIds: ids.optional() }).strict(),
  'predictions.delete': z.object({ batchId: id }).strict(),
  'measurements.labelled': z.object({ datasetId: id, file: filePath, measure, overwrite }).strict()
}

/** A measurements CSV and the per-leaf CSV beside it: both are outputs the user named. */
function checkCsvOutputs(file: string, overwrite: boolean | undefined): string {
  checkOutputFile(leavesCsvPath(file), { overwrite })
  return checkOutputFile(file, { overwrite })
}

export function predictionMethods(s: ServiceContext): Methods<K> {
  const db = () => s.requireProject().project.db
  const jobs = () => s.requireProject().jobs
  return {
    async 'runs.exportOnnx'({ runId, checkpoint, file, overwrite }) {
      const run = getRun(db(), runId)
      runModelDir(s.requireProject().project, runId, checkpoint) // refused now, not in the job, when there is none
      return jobs().start('export-onnx', `Export “${run.name}” (${checkpoint}) as ONNX`, {
        runId,
        checkpoint,
        file: checkOutputFile(s.checkPath(file), { overwrite })
      })
    },
    async 'predictions.start'({ runId, checkpoint, source, threshold, cutouts, trimap, measure }) {
      const run = getRun(db(), runId)
      const stored = source.kind === 'folder' ? { kind: 'folder' as const, dir: s.checkPath(source.dir) } : source
      const sourceName = stored.kind === 'folder' ? s.describePaths([stored.dir]) : getDataset(db(), stored.datasetId).name
      const batchId = createBatch(db(), {
        runId,
        checkpoint,
        source: stored.kind,
        sourceName,
        datasetId: stored.kind === 'dataset' ? stored.datasetId : null,
        threshold,
        cutouts,
        minLeafAreaPx: measure.minLeafAreaPx,
        pxPerMm: measure.pxPerMm
      })
      // Cutouts go through the matting step with the trimap settings asked for, else the dataset's (stored with the job, for a resume).
      const cutoutTrimap = trimap ?? (stored.kind === 'dataset' ? getDataset(db(), stored.datasetId).trimap : defaultTrimapChoice)
      const job = jobs().start('predict', `Predict ${sourceName} with “${run.name}”`, {
        batchId,
        runId,
        checkpoint,
        source: stored,
        threshold,
        cutouts,
        trimap: cutoutTrimap,
        measure
      })
      setBatchJob(db(), batchId, job.id)
      return job
    },
    async 'predictions.traits'({ batchId }) {
      getBatch(db(), batchId)
      return { photos: batchTraits(db(), batchId) }
    },
    async 'predictions.problems'({ batchId }) {
      getBatch(db(), batchId)
      return batchProblems(db(), batchId)
    },
    async 'predictions.resume'({ batchId }) {
      const batch = getBatch(db(), batchId)
      if (batch.status === 'running' || batch.status === 'queued') throw new ApiError('conflict', `Batch ${batchId} is still predicting.`)
      const request = batchRequest(db(), batchId)
      if (!request) throw new ApiError('bad_input', `Batch ${batchId} was made before batches could be resumed: start a new prediction.`)
      if (!batch.canResume) throw new ApiError('conflict', `Batch ${batchId} has predicted all ${batch.photos} photos; nothing to resume.`)
      const job = jobs().start('predict', `Resume predicting ${batch.sourceName} with “${batch.runName}”`, request)
      setBatchJob(db(), batchId, job.id)
      return job
    },
    async 'predictions.list'() {
      return listBatches(db())
    },
    async 'predictions.photos'({ batchId }) {
      getBatch(db(), batchId)
      return batchPhotos(db(), batchId).map(({ noisePx: _noise, ...p }) => p)
    },
    async 'predictions.exportCsv'({ batchId, file, overwrite }) {
      const rows = batchCsvRows(db(), batchId)
      if (rows.length === 0) throw new ApiError('bad_input', 'This batch has no predicted photos to export.')
      const target = checkCsvOutputs(s.checkPath(file), overwrite)
      await writeMeasurementsCsv(target, rows)
      const batch = getBatch(db(), batchId)
      const photos = batchTraits(db(), batchId).map((p) => ({ photo: p.name, leaves: p.leaves, scalePxPerMm: batch.pxPerMm }))
      const leavesFile = leavesCsvPath(target)
      await writeLeavesCsv(leavesFile, photos, batch.separatesLeaves)
      return { file: target, rows: rows.length, leavesFile, leaves: photos.reduce((n, p) => n + p.leaves.length, 0) }
    },
    async 'predictions.measurements'({ batchId }) {
      return batchCsvRows(db(), batchId)
    },
    async 'predictions.exportMasks'({ batchId, dir }) {
      return exportBatchMasks(s.requireProject().project, batchId, checkOutputFolder(s.checkPath(dir)))
    },
    async 'predictions.fromModel'(args) {
      const optional = (p: string | undefined) => (p === undefined ? undefined : s.checkPath(p))
      const csv = args.csv === undefined ? undefined : checkCsvOutputs(s.checkPath(args.csv), args.overwrite)
      const out = checkOutputFolder(s.checkPath(args.out))
      const checked = { ...args, model: s.checkPath(args.model), images: optional(args.images), list: optional(args.list), out, csv }
      return predictWithModelFolder(checked, s.folderProgress('predictions.fromModel'))
    },
    async 'predictions.mergeShards'({ dirs, csv, overwrite }) {
      return mergeShards(
        dirs.map((d) => s.checkPath(d)),
        checkCsvOutputs(s.checkPath(csv), overwrite)
      )
    },
    async 'predictions.accept'({ batchId, photoIds }) {
      return acceptPredictions(s.requireProject().project, batchId, photoIds)
    },
    async 'predictions.delete'({ batchId }) {
      const { project } = s.requireProject()
      const batch = getBatch(db(), batchId)
      if (batchJobRunning(db(), batchId))
        throw new ApiError('conflict', `The batch “${batch.sourceName}” is still being predicted: cancel its job before deleting it.`)
      deleteBatch(db(), batchId)
      const { files, bytes } = cleanProject(project, { under: `predictions/${batchId}` })
      return { files, bytes }
    },
    async 'measurements.labelled'({ datasetId, file, measure, overwrite }) {
      const dataset = getDataset(db(), datasetId)
      return jobs().start('measure', `Measure the masks of “${dataset.name}”`, { datasetId, file: checkOutputFile(s.checkPath(file), { overwrite }), measure })
    }
  }
}
