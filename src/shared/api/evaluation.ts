// Evaluation: a run's checkpoint measured on photos with masks, at any threshold.
import type { Job } from './job'

/** The five figures, each pooled over all pixels and averaged over photos (they differ). */
export interface Scores {
  accuracy: number
  iou: number
  dice: number
  precision: number
  recall: number
}

export interface EvaluationPhoto {
  photoId: number
  name: string
  /** Project-relative paths: the photo, the truth mask, and the predicted probabilities (8-bit PNG, value = p×256). */
  photoFile: string
  maskFile: string
  probabilityFile: string
  /** At the evaluation's threshold. */
  scores: Scores
  truePositive: number
  falsePositive: number
  falseNegative: number
  /** For a run that separates leaves, on a photo whose mask tells leaves apart: the leaf measures (at the result's leavesThreshold). */
  instances: InstanceScores | null
  /** The leaves the run separated at threshold 0.5: a project-relative PNG of leaf ids (0 = background, 1..count); null where not kept. */
  predictedLeaves: { file: string; count: number } | null
}

/** CVPPP leaf measures of one photo (see the README: Leaf measures). */
export interface InstanceScores {
  /** Symmetric best Dice, 0..1: how well each leaf is outlined, split and merged leaves punished. */
  sbd: number
  /** Predicted minus true leaf count. */
  dic: number
  /** Foreground-background Dice, 0..1: all leaf pixels, whichever leaf. */
  fbd: number
  predicted: number
  truth: number
}

/** The leaf measures averaged over photos, as the CVPPP challenge reports them. */
export interface InstanceSummary {
  sbd: number
  dic: number
  /** Mean of |DiC|. */
  absDic: number
  fbd: number
  photos: number
}

export type EvaluationSource = 'val' | 'test' | 'dataset'

export interface EvaluationSummary {
  id: number
  runId: number
  checkpoint: 'best' | 'last'
  source: EvaluationSource
  datasetName: string
  photos: number
  createdAt: string
}

export interface EvaluationResult extends EvaluationSummary {
  threshold: number
  pooled: Scores
  meanPerPhoto: Scores
  /** Worst first: by SBD where photos have leaf measures, else by IoU. */
  perPhoto: EvaluationPhoto[]
  /** Leaf measures over the photos that have them (a run that separates leaves); null otherwise. */
  instances: InstanceSummary | null
  /** The threshold the leaf measures are of: the one nearest `threshold` they were measured at (every 0.1); null without them. */
  leavesThreshold: number | null
}

/** The job kinds of this area: what each is started with, gives back, and may send. */
export interface EvaluationJobs {
  evaluate: {
    params: { evaluationId: number; runId: number; checkpoint: 'best' | 'last'; source: EvaluationSource; datasetId?: number }
    result: { evaluationId: number; photos: number }
    events: never
  }
}

export interface EvaluationApi {
  /** Evaluate a run's checkpoint on its validation photos, its dataset's test split, or any dataset with masks: a job. */
  'evaluations.start'(args: {
    runId: number
    checkpoint: 'best' | 'last'
    source: EvaluationSource
    datasetId?: number
  }): Promise<Job<'evaluate', EvaluationJobs['evaluate']['result']>>
  'evaluations.list'(args: { runId: number }): Promise<EvaluationSummary[]>
  /** The figures at any threshold (0–1), recomputed instantly from stored histograms. */
  'evaluations.get'(args: { id: number; threshold: number }): Promise<EvaluationResult>
}
