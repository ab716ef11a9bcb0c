// What the Training view keeps while it is not on screen: the form as the person left it, and the loss of
// every batch trained while the app is open (the job process reports it live; only epochs are recorded).
import type { TrainingBackendChoice, TrainingConfig, TrainingProgress } from '../../../shared/api/training'

export type BatchProgress = Extract<TrainingProgress, { kind: 'batch' }>

export const trainingForm = $state({
  datasetId: null as number | null,
  /** null until the presets are loaded the first time the view opens. */
  config: null as TrainingConfig | null,
  backend: 'auto' as TrainingBackendChoice,
  runName: '',
  /** The job timing a few steps, and the form it timed (an estimate of another form no longer applies). */
  estimate: null as { jobId: number; of: string } | null
})

export const batchHistory = $state({
  /** [epoch - 1 + batch / batches, loss] by run id. */
  losses: {} as Record<number, [number, number][]>,
  last: {} as Record<number, BatchProgress>
})

export function recordTrainingProgress(p: TrainingProgress): void {
  if (p.kind !== 'batch') return
  const x = p.epoch - 1 + p.batch / p.batches
  const losses = batchHistory.losses[p.runId] ?? []
  // A resumed run repeats the epoch it was cancelled in: its new batches replace the old ones.
  while (losses.length && losses[losses.length - 1][0] >= x) losses.pop()
  losses.push([x, p.loss])
  batchHistory.losses[p.runId] = losses
  batchHistory.last[p.runId] = p
}

/** Another project: nothing of this one's form or runs applies. */
export function forgetTraining(): void {
  trainingForm.datasetId = null
  trainingForm.config = null
  trainingForm.backend = 'auto'
  trainingForm.runName = ''
  trainingForm.estimate = null
  batchHistory.losses = {}
  batchHistory.last = {}
}
