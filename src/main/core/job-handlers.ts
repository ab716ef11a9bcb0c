// The composition of the job process: every job kind with the step that runs it. It sits above the steps
// (which know nothing of each other's jobs) and `jobs/` (which runs whatever handlers it is given).
import type { JobHandlers } from './jobs/context'
import { demoJob } from './jobs/demo'
import { exportMasksJob, importMasksJob, importPhotosJob } from './datasets/jobs'
import { exportCutoutsJob, mattesJob, trimapsJob } from './matting/jobs'
import { estimateTrainingJob, trainJob } from './training/jobs'
import { evaluateJob } from './evaluation/jobs'
import { exportOnnxJob, measureLabelledJob, predictJob } from './prediction/jobs'
import { assistPredictionJob, classifyJob, prelabelJob } from './labelling/jobs'

export const jobHandlers: JobHandlers = {
  demo: demoJob,
  'import-photos': importPhotosJob,
  'import-masks': importMasksJob,
  'export-masks': exportMasksJob,
  trimaps: trimapsJob,
  mattes: mattesJob,
  cutouts: exportCutoutsJob,
  train: trainJob,
  'estimate-training': estimateTrainingJob,
  evaluate: evaluateJob,
  predict: predictJob,
  measure: measureLabelledJob,
  'export-onnx': exportOnnxJob,
  prelabel: prelabelJob,
  'assist-prediction': assistPredictionJob,
  classify: classifyJob
}
