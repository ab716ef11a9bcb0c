// The evaluation job: a run's model predicts each photo with a truth mask at full resolution, and one
// probability PNG and histogram per photo are stored (the threshold slider needs nothing more).
import { mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { EvaluationSource } from '../../../shared/api/evaluation'
import type { JobContext } from '../jobs/context'
import type { Project } from '../project'
import type { Db } from '../store/database'
import { readRaster } from '../imaging/raster'
import { predictPhoto, type ProbabilityMap } from '../model/tiling'
import { writeProbabilityPng } from '../model/mask'
import { datasetPhotos, getDataset } from '../datasets/records'
import { getRun, runSnapshot, snapshotInstancesFile } from '../training/records'
import { runPredictor } from '../training/checkpoint'
import { probabilityHistogram } from './metrics'
import { recordEvaluationPhoto } from './records'
import { instanceScores } from './instances'
import { separateLeaves } from '../model/instances'
import { readInstanceFile, writeInstanceIds } from '../datasets/instances'
import { maxLeavesPerPhoto } from '../../../shared/bounds'
import { LEAF_THRESHOLDS, type StoredLeaves } from './records'

const rel = (project: Project, path: string) => relative(project.dir, path).split('\\').join('/')

interface EvaluationItem {
  photoId: number
  name: string
  photoFile: string
  maskFile: string
  /** Project-relative instance labels of the mask, when it tells leaves apart. */
  instancesFile: string | null
}

export function evaluationItems(db: Db, runId: number, source: EvaluationSource, datasetId?: number): { items: EvaluationItem[]; datasetName: string } {
  const run = getRun(db, runId)
  if (source === 'val') {
    const items = runSnapshot(db, runId)
      .filter((p) => p.split === 'val')
      .map((p) => ({ photoId: p.photoId, name: p.name, photoFile: p.photoFile, maskFile: p.maskFile, instancesFile: snapshotInstancesFile(p.maskFile) }))
    if (items.length === 0) throw new ApiError('bad_input', `Run “${run.name}” has no validation photos.`)
    return { items, datasetName: `${run.datasetName} (validation photos of the run)` }
  }
  const id = source === 'test' ? run.datasetId : datasetId
  if (id == null) throw new ApiError('bad_input', source === 'test' ? `The dataset of run “${run.name}” was deleted.` : 'Choose a dataset to evaluate on.')
  const dataset = getDataset(db, id)
  const items = datasetPhotos(db, id)
    .filter((p) => p.mask && (source === 'dataset' || p.split === 'test'))
    .map((p) => ({ photoId: p.id, name: p.name, photoFile: p.file, maskFile: p.mask!.file, instancesFile: p.mask!.instancesFile }))
  if (items.length === 0) {
    throw new ApiError(
      'bad_input',
      source === 'test' ? `“${dataset.name}” has no test photos with masks: assign a test split first.` : `“${dataset.name}” has no photos with masks.`
    )
  }
  return { items, datasetName: source === 'test' ? `${dataset.name} (test split)` : dataset.name }
}

/**
 * The leaves the run separated, measured against the photo's instance labels at every threshold the leaf measures
 * are kept for (so the slider moves them too), and drawn at 0.5 into `leavesPath` for the inspector. Null when the
 * photo's mask does not tell its leaves apart.
 */
async function measureLeaves(project: Project, item: EvaluationItem, map: ProbabilityMap, leavesPath: string): Promise<StoredLeaves | null> {
  if (!item.instancesFile || !existsSync(join(project.dir, item.instancesFile))) return null
  const truth = await readInstanceFile(join(project.dir, item.instancesFile))
  if (truth.width !== map.width || truth.height !== map.height)
    throw new ApiError('bad_input', `The leaf labels of ${item.name} do not match its photo's size.`)
  const at: StoredLeaves['at'] = []
  let file: string | null = null
  for (const threshold of LEAF_THRESHOLDS) {
    if (!map.centre)
      throw new ApiError(
        'bad_input',
        `The model of this run gives no leaf centres for ${item.name}: it does not separate leaves (or was trained before leaf centres; train it again).`
      )
    const { ids } = separateLeaves(map, { threshold })
    const scores = instanceScores(ids, truth.ids)
    at.push({ threshold, scores })
    // The stored leaf image holds at most 255 leaves; a prediction with more is measured but not drawn.
    if (threshold === 0.5 && scores.predicted <= maxLeavesPerPhoto) {
      await writeInstanceIds(leavesPath, { width: map.width, height: map.height, ids, count: scores.predicted })
      file = rel(project, leavesPath)
    }
  }
  return { file, at }
}

export async function evaluateJob(
  params: { evaluationId: number; runId: number; checkpoint: 'best' | 'last'; source: EvaluationSource; datasetId?: number },
  ctx: JobContext<'evaluate'>
): Promise<{ evaluationId: number; photos: number }> {
  const { project, signal } = ctx
  const { items } = evaluationItems(project.db, params.runId, params.source, params.datasetId)
  const { model, predictor, options } = await runPredictor(project, params.runId, params.checkpoint)
  const instances = getRun(project.db, params.runId).config.instances === true
  const dir = project.path('runs', String(params.runId), 'evaluations', String(params.evaluationId))
  await mkdir(dir, { recursive: true })
  try {
    for (const [i, item] of items.entries()) {
      signal.throwIfAborted()
      ctx.progress(i, items.length, item.name)
      const photo = await readRaster(join(project.dir, item.photoFile), 3)
      const truth = await readRaster(join(project.dir, item.maskFile), 1)
      if (truth.width !== photo.width || truth.height !== photo.height)
        throw new ApiError('bad_input', `The mask of ${item.name} does not match its photo's size.`)
      const map = await predictPhoto(predictor, photo, { ...options, signal, photo: item.name })
      const file = join(dir, `${item.photoId}.png`)
      await writeProbabilityPng(file, map)
      const leaves = instances ? await measureLeaves(project, item, map, join(dir, `${item.photoId}.instances.png`)) : null
      recordEvaluationPhoto(project.db, params.evaluationId, {
        ...item,
        probabilityFile: rel(project, file),
        histogram: probabilityHistogram(map.data, truth, item.name),
        leaves
      })
    }
    ctx.progress(items.length, items.length)
    return { evaluationId: params.evaluationId, photos: items.length }
  } finally {
    model.dispose()
  }
}
