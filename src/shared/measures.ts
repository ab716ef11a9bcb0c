// What the IoU (and the other scores) of training and of evaluation measure, in one place: the command line and
// the views say the same, so that a run's validation IoU and an evaluation's pooled IoU can be matched.

/** Training's validation scores (each epoch's, the best checkpoint's). */
export function trainingScoresMeasure(inputSize: number): string {
  return `validation photos at the network's ${inputSize}×${inputSize} px, threshold 0.5, pixels of all photos pooled`
}

/** An evaluation's scores. */
export function evaluationScoresMeasure(threshold: number): string {
  return `full-resolution photos, threshold ${threshold}; pooled: pixels of all photos together, per-photo mean: each photo weighs the same`
}
