// A run's checkpoint, loaded as a full-resolution predictor (for evaluation and prediction).
import { join } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { Project } from '../project'
import type { InferenceModel } from '../model/onnx-engine'
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
export async function runPredictor(
  project: Project,
  runId: number,
  checkpoint: 'best' | 'last'
): Promise<{ model: InferenceModel; predictor: Predictor; options: PredictOptions }> {
  const dir = runModelDir(project, runId, checkpoint)
  // tfjs (and onnxruntime) load here, in the job process, on first use: the main process and CLI start-up never pay for it.
  const { loadInferenceModel } = await import('../model/inference')
  const model = await loadInferenceModel(dir)
  return { model, ...fullResolution(model) }
}
