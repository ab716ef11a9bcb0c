// API area: training — presets, backend, fit check, augmented previews, runs started and resumed as jobs.
import { z } from 'zod'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import type { RunComparison, RunSummary, TrainingApi, TrainingBackendChoice, TrainingConfig, TrainingPreferences } from '../../../shared/api/training'
import { checkTrainingFits } from '../model/fit'
import { ApiError } from '../../../shared/errors'
import { getDataset, getPhoto, previewPhotoId } from '../datasets/records'
import { augmentedPreviews } from '../training/data'
import type { Raster } from '../imaging/raster'
import { augmentOptions, runWorkers, networkProblem } from '../training/config'
import { defaultPresetName, fromPreset, TRAINING_PRESETS } from '../../../shared/training-config'
import { expectedBackend } from '../training/backend-info'
import * as runs from '../training/records'
import { evaluationAt, latestEvaluation } from '../evaluation/records'
import type { TrainJobParams } from '../../../shared/api/training'
import type { Methods, Schemas } from './area'
import { id, none, whole } from './schema-parts'
import { defaultProbabilityThreshold, seedBounds, trainingBounds } from '../../../shared/bounds'
import type { ServiceContext } from './context'
import { readPreference, writePreference } from '../store/preferences'

type K = keyof TrainingApi

const augment = z
  .object({ flips: z.boolean(), rotate90: z.boolean(), rotate: z.boolean(), scale: z.boolean(), color: z.boolean(), blur: z.boolean(), noise: z.boolean() })
  .strict()
const b = trainingBounds
const inputSize = whole(b.inputSize)
const seed = whole(seedBounds)
const epochs = whole(b.epochs)
const config: z.ZodType<TrainingConfig> = z
  .object({
    preset: z.enum(['seed', 'fast-cpu', 'leaves-cpu', 'custom']),
    inputSize,
    baseFilters: whole(b.baseFilters),
    depth: whole(b.depth),
    batchSize: whole(b.batchSize),
    epochs,
    learningRate: z.number().gt(b.learningRate.min).max(b.learningRate.max),
    loss: z.enum(['bce', 'dice', 'bce+dice']),
    patience: whole(b.patience),
    seed,
    augment,
    workers: whole(b.workers).optional(),
    instances: z.boolean().optional(),
    sampling: z
      .union([z.object({ mode: z.literal('whole') }).strict(), z.object({ mode: z.literal('crops'), scale: z.number().gt(0).max(4) }).strict()])
      .optional()
  })
  .strict()
  // The one check of a run's configuration beyond its bounds: the network's shape must fit together.
  .superRefine((c, ctx) => {
    const problem = networkProblem(c)
    if (problem) ctx.addIssue({ code: 'custom', path: ['inputSize'], message: problem })
  })

/** The settings Compare lists when they differ between runs. */
const configKeys: (keyof TrainingConfig)[] = [
  'preset',
  'inputSize',
  'baseFilters',
  'depth',
  'batchSize',
  'epochs',
  'learningRate',
  'loss',
  'patience',
  'seed',
  'augment',
  'instances'
]

const backendChoice = z.enum(['auto', 'webgpu', 'webgl', 'tensorflow', 'wasm', 'cpu'])

const form = z.object({ datasetId: id.nullable(), config, backend: backendChoice }).strict()
const preferences = z.object({ form: form.nullable(), labelRunId: id.nullable(), predictRunId: id.nullable() }).strict()
const preferenceKeys = ['form', 'labelRunId', 'predictRunId'] as const satisfies readonly (keyof TrainingPreferences)[]

export const trainingSchemas: Schemas<K> = {
  'training.preferences': none,
  'training.remember': preferences.partial(),
  'training.presets': none,
  'training.backend': none,
  'training.checkFit': z.object({ config, backend: backendChoice.optional() }).strict(),
  'training.previews': z.object({ datasetId: id, photoId: id.optional(), inputSize, augment, seed: seed.optional() }).strict(),
  'training.estimate': z.object({ datasetId: id, config, backend: backendChoice.optional() }).strict(),
  'training.start': z
    .object({ datasetId: id, name: z.string().trim().max(200).optional(), config, backend: backendChoice.optional(), initFrom: id.optional() })
    .strict(),
  'training.resume': z.object({ runId: id, epochs: epochs.optional(), backend: backendChoice.optional(), workers: whole(b.workers).optional() }).strict(),
  'runs.list': none,
  'runs.get': z.object({ id }).strict(),
  'runs.compare': z.object({ runIds: z.array(id).min(2).max(12) }).strict(),
  'runs.findByName': z.object({ name: z.string().trim().min(1).max(200) }).strict(),
  'runs.update': z.object({ id, name: z.string().trim().min(1).max(200).optional(), notes: z.string().max(20_000).optional() }).strict(),
  'runs.delete': z.object({ id }).strict()
}

async function pngDataUrl(raster: Raster): Promise<string> {
  const png = await sharp(raster.data, { raw: { width: raster.width, height: raster.height, channels: raster.channels } })
    .png()
    .toBuffer()
  return `data:image/png;base64,${png.toString('base64')}`
}

export function trainingMethods(s: ServiceContext): Methods<K> {
  const open = () => s.requireProject()
  const db = () => open().project.db

  /**
   * The fit check for the backend that will train: the one asked for, else the one expected. A GPU's limits are
   * known once a run used it on this project; until then the job checks them when it starts.
   */
  function checkFit(c: TrainingConfig, choice: TrainingBackendChoice = 'auto') {
    const backend = choice === 'auto' ? expectedBackend(db()).backend : choice
    const onGpu = backend === 'webgl' || backend === 'webgpu'
    const gpu = onGpu ? runs.lastGpu(db(), backend) : null
    // A GPU's limits are not known until a run met it: the job checks them when it starts.
    if (onGpu && !gpu) return { fits: true, bytes: 0, limitBytes: 0, largestBatch: 0, backend, message: null }
    const fit = gpu
      ? checkTrainingFits(c, c.batchSize, gpu.backend, gpu)
      : checkTrainingFits(c, c.batchSize, backend === 'tensorflow' || backend === 'cpu' ? backend : 'wasm', undefined, runWorkers(c))
    return { fits: fit.fits, bytes: fit.bytes, limitBytes: fit.limitBytes, largestBatch: fit.largestBatch, backend, message: fit.message ?? null }
  }

  function startJob(runId: number, resume: boolean, backend: TrainingBackendChoice | undefined, initFrom?: { run: RunSummary; folder: string }) {
    const run = runs.getRun(db(), runId)
    const params: TrainJobParams = { runId, resume, backend: backend ?? 'auto', initFrom: initFrom?.folder }
    const verb = resume ? 'Resume' : initFrom ? `Fine-tune run ${initFrom.run.id} as` : 'Train'
    const job = open().jobs.start('train', `${verb} “${run.name}”`, params)
    runs.setRunJob(db(), runId, job.id)
    return { run: runs.getRun(db(), runId), job }
  }

  /** The run a new run fine-tunes: it must have a best checkpoint of the same network. */
  function fineTuneSource(runId: number, config: TrainingConfig): { run: RunSummary; folder: string } {
    const run = runs.getRun(db(), runId)
    if (!run.bestModel) throw new ApiError('bad_input', `Run “${run.name}” has no best checkpoint to start from: train it for at least one epoch.`)
    const a = run.config
    if (a.inputSize !== config.inputSize || a.baseFilters !== config.baseFilters || a.depth !== config.depth || !a.instances !== !config.instances) {
      throw new ApiError(
        'invalid_argument',
        `A run fine-tuned from “${run.name}” needs its network: input ${a.inputSize} px, ${a.baseFilters} base filters, depth ${a.depth}, ${a.instances ? 'separating leaves' : 'not separating leaves'}.`
      )
    }
    return { run, folder: run.bestModel }
  }

  /** What is kept, each value checked again as it is read: one an older or newer app wrote that does not fit reads as null. */
  function keptPreferences(): TrainingPreferences {
    const kept: TrainingPreferences = { form: null, labelRunId: null, predictRunId: null }
    for (const key of preferenceKeys) {
      const parsed = preferences.shape[key].safeParse(readPreference(db(), `training.${key}`))
      if (parsed.success) Object.assign(kept, { [key]: parsed.data })
    }
    return kept
  }

  return {
    async 'training.preferences'() {
      return keptPreferences()
    },
    async 'training.remember'(changes) {
      const { project } = open()
      if (project.readOnlyReason) return keptPreferences()
      project.db.transaction(() => {
        for (const key of preferenceKeys) if (changes[key] !== undefined) writePreference(project.db, `training.${key}`, changes[key])
      })()
      return keptPreferences()
    },
    async 'training.presets'() {
      const defaults = fromPreset(defaultPresetName)
      return { presets: structuredClone(TRAINING_PRESETS), defaults: { ...defaults, workers: runWorkers(defaults) } }
    },
    async 'training.backend'() {
      return expectedBackend(db())
    },
    async 'training.checkFit'({ config, backend }) {
      return checkFit(config, backend)
    },
    async 'training.previews'({ datasetId, photoId, inputSize, augment, seed }) {
      const problem = networkProblem({ inputSize, depth: 1 })
      if (problem) throw new ApiError('invalid_argument', problem)
      getDataset(db(), datasetId)
      let chosen: number
      if (photoId !== undefined) chosen = photoId
      else {
        const found = previewPhotoId(db(), datasetId)
        if (found === null) throw new ApiError('bad_input', 'This dataset has no photo with a mask to show augmented samples of.')
        chosen = found
      }
      const photo = getPhoto(db(), chosen)
      if (photo.datasetId !== datasetId) throw new ApiError('not_found', `Photo ${chosen} is not in this dataset.`)
      if (!photo.mask) throw new ApiError('bad_input', `${photo.name} has no mask.`)
      const { project } = open()
      const previews = await augmentedPreviews(
        { id: String(photo.id), imagePath: join(project.dir, photo.file), maskPath: join(project.dir, photo.mask.file) },
        { size: inputSize, count: 8, augment: augmentOptions(augment) ?? {}, seed: seed ?? 1 }
      )
      const samples = await Promise.all(previews.map(async (p) => ({ image: await pngDataUrl(p.photo), mask: await pngDataUrl(p.mask) })))
      return { photoId: photo.id, photoName: photo.name, samples }
    },
    async 'training.estimate'({ datasetId, config, backend }) {
      getDataset(db(), datasetId)
      const fit = checkFit(config, backend)
      if (!fit.fits) throw new ApiError('bad_input', fit.message!)
      const { train, val } = runs.labelledSplitCounts(db(), datasetId)
      const params = { config, backend: backend ?? 'auto', trainPhotos: train, valPhotos: val }
      return open().jobs.start('estimate-training', `Time a training step (batch ${config.batchSize}, ${config.inputSize} px)`, params)
    },
    async 'training.start'({ datasetId, name, config: asked, backend, initFrom }) {
      // The run records how many workers it trains with, the default included.
      const config = { ...asked, workers: runWorkers(asked) }
      const from = initFrom === undefined ? undefined : fineTuneSource(initFrom, config)
      const fit = checkFit(config, backend)
      if (!fit.fits) throw new ApiError('bad_input', fit.message!)
      const run = runs.createRun(db(), datasetId, name, config)
      if (from) runs.updateRun(db(), run.id, { notes: `Fine-tuned from run ${from.run.id} (“${from.run.name}”), its best checkpoint.` })
      return startJob(run.id, false, backend, from)
    },
    async 'training.resume'({ runId, epochs, backend, workers }) {
      const run = runs.getRun(db(), runId)
      if (run.status === 'running') throw new ApiError('conflict', `“${run.name}” is still training.`)
      if (epochs !== undefined) {
        if (epochs <= run.epochsDone)
          throw new ApiError('invalid_argument', `“${run.name}” has already trained ${run.epochsDone} epochs; ask for more than that.`)
        runs.setRunEpochs(db(), runId, epochs)
      } else if (!run.canResume) {
        throw new ApiError(
          'conflict',
          `“${run.name}” has nothing to resume: it ${run.status === 'completed' ? 'finished' : 'ran'} all ${run.config.epochs} epochs. Ask for more epochs to continue it.`
        )
      }
      if (workers !== undefined) runs.setRunWorkers(db(), runId, workers)
      return startJob(runId, true, backend)
    },
    async 'runs.list'() {
      return runs.listRuns(db())
    },
    async 'runs.get'({ id }) {
      return runs.getRunDetail(db(), id)
    },
    async 'runs.compare'({ runIds }): Promise<RunComparison> {
      const details = runIds.map((r) => runs.getRunDetail(db(), r))
      const differ = (f: (r: (typeof details)[number]) => unknown) => new Set(details.map((r) => JSON.stringify(f(r)))).size > 1
      const differences: RunComparison['differences'] = configKeys.filter((k) => differ((r) => r.config[k]))
      if (differ((r) => r.datasetName)) differences.push('dataset')
      if (differ((r) => r.backend)) differences.push('backend')
      const snapshotKey = (r: (typeof details)[number]) =>
        r.snapshot
          .map((p) => `${p.photoHash}:${p.maskHash}:${p.split}`)
          .sort()
          .join('|')
      const evaluations = details.map((r) => latestEvaluation(db(), r.id, 'val'))
      const results = evaluations.map((e) => (e === null ? null : evaluationAt(db(), e, defaultProbabilityThreshold)))
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
        runs: details.map(({ snapshot: _snapshot, ...r }) => r),
        differences,
        differentSnapshots: new Set(details.map(snapshotKey)).size > 1,
        perPhoto,
        evaluations,
        leaves: results.map((r) => r?.instances ?? null)
      }
    },
    async 'runs.findByName'({ name }) {
      const all = runs.listRuns(db())
      const found = all.find((r) => String(r.id) === name) ?? all.find((r) => r.name === name)
      if (!found) throw new ApiError('not_found', `The project has no run “${name}” (give its id or name; the Runs view lists them).`)
      return found
    },
    async 'runs.update'({ id, ...changes }) {
      return runs.updateRun(db(), id, changes)
    },
    async 'runs.delete'({ id }) {
      const run = runs.getRun(db(), id)
      if (run.status === 'running') throw new ApiError('conflict', `“${run.name}” is training: cancel it before deleting it.`)
      runs.deleteRunRecord(db(), id)
      await rm(open().project.path('runs', String(id)), { recursive: true, force: true })
    }
  }
}
