// Every job kind the job process knows. Params were validated when the job was created.
import type { JobHandler } from './context'
import { demoJob } from './demo'
import { exportMasksJob, importMasksJob, importPhotosJob } from '../datasets/jobs'
import { exportCutoutsJob, mattesJob, trimapsJob } from '../matting/jobs'
import { trainJob } from '../training/jobs'
import { evaluateJob } from '../evaluation/jobs'
import { measureLabelledJob, predictJob } from '../prediction/jobs'

export const jobHandlers: Record<string, JobHandler<never>> = {
  demo: demoJob,
  'import-photos': importPhotosJob,
  'import-masks': importMasksJob,
  'export-masks': exportMasksJob,
  trimaps: trimapsJob,
  mattes: mattesJob,
  cutouts: exportCutoutsJob,
  train: trainJob,
  evaluate: evaluateJob,
  predict: predictJob,
  measure: measureLabelledJob
}
