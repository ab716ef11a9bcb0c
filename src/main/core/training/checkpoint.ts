// A run's checkpoint, loaded as a full-resolution predictor (for evaluation and prediction).
import { join } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { Project } from '../project'
import type { LoadedModel } from '../model/predict'
import { fullResolution, type PredictOptions, type Predictor } from '../model/tiling'
import { getRun } from './records'

/** The folder of the run's checkpoint; a clear refusal when it has none yet. */
export function runModelDir(project: Project, runId: number, checkpoint: 'best' | 'last'): string {
  const run = getRun(project.db, runId)
  const folder = checkpoint === 'best' ? run.bestModel : run.lastModel
  if (!folder) throw new ApiError('bad_input', `Run “${run.name}” has no ${checkpoint} checkpoint yet: train it for at least one epoch.`)
  return join(project.dir, folder)
}

/** The run's checkpoint as a full-resolution predictor. */
export async function runPredictor(project: Project, runId: number, checkpoint: 'best' | 'last'): Promise<{ model: LoadedModel; predictor: Predictor; options: PredictOptions }> {
  const dir = runModelDir(project, runId, checkpoint)
  // tfjs loads here, in the job process, on first use: the main process and CLI start-up never pay for it.
  const { loadModel } = await import('../model/predict')
  const model = await loadModel(dir)
  return { model, ...fullResolution(model) }
}
