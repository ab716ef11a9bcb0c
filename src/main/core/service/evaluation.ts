// API area: evaluation, comparison of runs, prediction batches and leaf measurements.
import { z } from 'zod'
import type { EvaluationApi, RunComparison } from '../../../shared/api/evaluation'
import type { TrainingConfig } from '../../../shared/api/training'
import { ApiError } from '../../../shared/errors'
import { confirmMask, getDataset, getPhoto } from '../datasets/records'
import { getRun, getRunDetail } from '../training/records'
import { runModelDir } from '../training/checkpoint'
import { leavesCsvPath, writeLeavesCsv, writeMeasurementsCsv } from '../prediction/csv'
import { createEvaluation, evaluationAt, latestEvaluation, listEvaluations } from '../evaluation/records'
import { evaluationItems } from '../evaluation/jobs'
import { batchJobRunning, batchPhotos, batchProblems, batchTraits, batchRequest, createBatch, deleteBatch, getBatch, listBatches, setBatchJob } from '../prediction/records'
import { acceptPredictions, batchCsvRows } from '../prediction/jobs'
import { cleanProject } from '../store/clean'
import type { Methods, Schemas } from './area'
import { filePath, id, ids, within } from './app'
import { defaultTrimapChoice, probabilityThresholdBounds } from '../../../shared/bounds'
import { trimapChoice } from './matting'
import { exportBatchMasks } from '../prediction/jobs'
import { predictWithModelFolder } from '../prediction/model-folder'
import { mergeShards } from '../prediction/shards'
import type { LeafsegService } from './service'

type K = keyof EvaluationApi

const checkpoint = z.enum(['best', 'last'])
const threshold = within(probabilityThresholdBounds)
const measure = z.object({ minLeafAreaPx: z.number().int().min(1).max(1e9), pxPerMm: z.number().positive().max(1e6).nullable() }).strict()

export const evaluationSchemas: Schemas<K> = {
  'evaluations.start': z.object({ runId: id, checkpoint, source: z.enum(['val', 'test', 'dataset']), datasetId: id.optional() }).strict(),
  'evaluations.list': z.object({ runId: id }).strict(),
  'evaluations.get': z.object({ id, threshold }).strict(),
  'runs.compare': z.object({ runIds: z.array(id).min(2).max(12) }).strict(),
  'runs.exportOnnx': z.object({ runId: id, checkpoint, file: filePath }).strict(),
  'predictions.start': z
    .object({
      runId: id,
      checkpoint,
      source: z.discriminatedUnion('kind', [z.object({ kind: z.literal('folder'), dir: filePath }).strict(), z.object({ kind: z.literal('dataset'), datasetId: id }).strict()]),
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
  'predictions.exportCsv': z.object({ batchId: id, file: filePath }).strict(),
  'predictions.measurements': z.object({ batchId: id }).strict(),
  'predictions.exportMasks': z.object({ batchId: id, dir: filePath }).strict(),
  'predictions.fromModel': z
    .object({
      model: filePath,
      images: filePath.optional(),
      list: filePath.optional(),
      shard: z.object({ index: z.number().int().min(1), count: z.number().int().min(1).max(1_000_000) }).strict().refine((s) => s.index <= s.count, 'the shard index is at most the count').optional(),
      out: filePath,
      csv: filePath.optional(),
      threshold,
      measure
    })
    .strict()
    .refine((r) => (r.images === undefined) !== (r.list === undefined), 'give either images (a folder) or list (a file of photo paths)'),
  'predictions.mergeShards': z.object({ dirs: z.array(filePath).min(1).max(100_000), csv: filePath }).strict(),
  'predictions.accept': z.object({ batchId: id, photoIds: ids.optional() }).strict(),
  'predictions.delete': z.object({ batchId: id }).strict(),
  'photos.confirmMask': z.object({ id }).strict(),
  'measurements.labelled': z.object({ datasetId: id, file: filePath, measure }).strict()
}

const configKeys: (keyof TrainingConfig)[] = ['preset', 'inputSize', 'baseFilters', 'depth', 'batchSize', 'epochs', 'learningRate', 'loss', 'patience', 'seed', 'augment', 'instances']

export function evaluationMethods(s: LeafsegService): Methods<K> {
  const db = () => s.requireProject().project.db
  const jobs = () => s.requireProject().jobs
  return {
    async 'evaluations.start'({ runId, checkpoint, source, datasetId }) {
      const run = getRun(db(), runId)
      const { datasetName, items } = evaluationItems(db(), runId, source, datasetId)
      const evaluationId = createEvaluation(db(), runId, checkpoint, source, datasetName)
      return jobs().start('evaluate', `Evaluate “${run.name}” (${checkpoint}) on ${datasetName}, ${items.length} photos`, { evaluationId, runId, checkpoint, source, datasetId })
    },
    async 'evaluations.list'({ runId }) {
      return listEvaluations(db(), runId)
    },
    async 'evaluations.get'({ id, threshold }) {
      return evaluationAt(db(), id, threshold)
    },
    async 'runs.compare'({ runIds }): Promise<RunComparison> {
      const runs = runIds.map((r) => getRunDetail(db(), r))
      const differ = (f: (r: (typeof runs)[number]) => unknown) => new Set(runs.map((r) => JSON.stringify(f(r)))).size > 1
      const differences: RunComparison['differences'] = configKeys.filter((k) => differ((r) => r.config[k]))
      if (differ((r) => r.datasetName)) differences.push('dataset')
      if (differ((r) => r.backend)) differences.push('backend')
      const snapshotKey = (r: (typeof runs)[number]) => r.snapshot.map((p) => `${p.photoHash}:${p.maskHash}:${p.split}`).sort().join('|')
      const evaluations = runs.map((r) => latestEvaluation(db(), r.id, 'val'))
      const results = evaluations.map((e) => (e === null ? null : evaluationAt(db(), e, 0.5)))
      const byName = results.map((r) => new Map((r?.perPhoto ?? []).map((p) => [p.name, p])))
      const names = [...new Set(byName.flatMap((m) => [...m.keys()]))].sort((a, b) => a.localeCompare(b))
      const perPhoto = names.map((name) => {
        const any = byName.map((m) => m.get(name)).find(Boolean)!
        return {
          name,
          photoId: any.photoId,
          photoFile: any.photoFile,
          maskFile: any.maskFile,
          iou: byName.map((m) => m.get(name)?.scores.iou ?? null),
          probabilityFiles: byName.map((m) => m.get(name)?.probabilityFile ?? null)
        }
      })
      return {
        runs: runs.map(({ snapshot: _snapshot, ...r }) => r),
        differences,
        differentSnapshots: new Set(runs.map(snapshotKey)).size > 1,
        perPhoto,
        evaluations,
        leaves: results.map((r) => r?.instances ?? null)
      }
    },
    async 'runs.exportOnnx'({ runId, checkpoint, file }) {
      const run = getRun(db(), runId)
      runModelDir(s.requireProject().project, runId, checkpoint) // refused now, not in the job, when there is none
      return jobs().start('export-onnx', `Export “${run.name}” (${checkpoint}) as ONNX`, { runId, checkpoint, file: s.checkPath(file) })
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
      const job = jobs().start('predict', `Predict ${sourceName} with “${run.name}”`, { batchId, runId, checkpoint, source: stored, threshold, cutouts, trimap: cutoutTrimap, measure })
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
    async 'predictions.exportCsv'({ batchId, file }) {
      const rows = batchCsvRows(db(), batchId)
      if (rows.length === 0) throw new ApiError('bad_input', 'This batch has no predicted photos to export.')
      const target = s.checkPath(file)
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
      return exportBatchMasks(s.requireProject().project, batchId, s.checkPath(dir))
    },
    async 'predictions.fromModel'(args) {
      const optional = (p: string | undefined) => (p === undefined ? undefined : s.checkPath(p))
      const checked = { ...args, model: s.checkPath(args.model), images: optional(args.images), list: optional(args.list), out: s.checkPath(args.out), csv: optional(args.csv) }
      return predictWithModelFolder(checked, s.folderProgress('predictions.fromModel'))
    },
    async 'predictions.mergeShards'({ dirs, csv }) {
      return mergeShards(dirs.map((d) => s.checkPath(d)), s.checkPath(csv))
    },
    async 'predictions.accept'({ batchId, photoIds }) {
      return acceptPredictions(s.requireProject().project, batchId, photoIds)
    },
    async 'predictions.delete'({ batchId }) {
      const { project } = s.requireProject()
      const batch = getBatch(db(), batchId)
      if (batchJobRunning(db(), batchId)) throw new ApiError('conflict', `The batch “${batch.sourceName}” is still being predicted: cancel its job before deleting it.`)
      deleteBatch(db(), batchId)
      const { files, bytes } = cleanProject(project, { under: `predictions/${batchId}` })
      return { files, bytes }
    },
    async 'photos.confirmMask'({ id }) {
      const photo = getPhoto(db(), id)
      if (!photo.mask) throw new ApiError('bad_input', `${photo.name} has no mask to confirm.`)
      confirmMask(db(), id)
    },
    async 'measurements.labelled'({ datasetId, file, measure }) {
      const dataset = getDataset(db(), datasetId)
      return jobs().start('measure', `Measure the masks of “${dataset.name}”`, { datasetId, file: s.checkPath(file), measure })
    }
  }
}
