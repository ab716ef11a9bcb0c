// The CVPPP leaf segmentation measures (Scharr et al., "Leaf segmentation in plant phenotyping: a collation study",
// Machine Vision and Applications 2016; the challenge's evaluation scripts), on label images where 0 is background
// and every other value is one leaf:
//   Best Dice BD(A, B)  mean over the leaves of A of the best Dice of that leaf with any leaf of B
//   SBD                 symmetric best Dice, min(BD(pred, truth), BD(truth, pred)): how well each leaf is outlined,
//                       punishing both split and merged leaves
//   DiC                 difference in count, #predicted leaves − #true leaves (its mean says whether a model
//                       over- or under-counts), and |DiC| (how far off the count is)
//   FBD                 foreground-background Dice: Dice of all leaf pixels against all leaf pixels, ignoring which leaf
// The scripts give a best Dice of 0 to a label image without leaves; here two images without leaves agree
// perfectly (SBD and FBD 1), and one without leaves against one with leaves scores 0.

import type { InstanceScores, InstanceSummary } from '../../../shared/api/evaluation'

export type { InstanceScores, InstanceSummary }

/** Leaf label per pixel (0 = background), any numbering. */
type Labels = ArrayLike<number>

/** Pixels per label, and pixels shared per pair of labels (key a * 65536 + b), leaves only. */
function overlaps(a: Labels, b: Labels): { areaA: Map<number, number>; areaB: Map<number, number>; shared: Map<number, number> } {
  if (a.length !== b.length) throw new Error(`The label images differ in size (${a.length} and ${b.length} pixels).`)
  const areaA = new Map<number, number>()
  const areaB = new Map<number, number>()
  const shared = new Map<number, number>()
  for (let i = 0; i < a.length; i++) {
    const la = a[i]
    const lb = b[i]
    if (la) areaA.set(la, (areaA.get(la) ?? 0) + 1)
    if (lb) areaB.set(lb, (areaB.get(lb) ?? 0) + 1)
    if (la && lb) {
      const key = la * 65536 + lb
      shared.set(key, (shared.get(key) ?? 0) + 1)
    }
  }
  return { areaA, areaB, shared }
}

function bestDiceFrom(areaA: Map<number, number>, areaB: Map<number, number>, shared: Map<number, number>, aFirst: boolean): number {
  if (areaA.size === 0) return areaB.size === 0 ? 1 : 0
  const best = new Map<number, number>()
  for (const [key, both] of shared) {
    const la = aFirst ? Math.floor(key / 65536) : key % 65536
    const lb = aFirst ? key % 65536 : Math.floor(key / 65536)
    const dice = (2 * both) / (areaA.get(la)! + areaB.get(lb)!)
    if (dice > (best.get(la) ?? 0)) best.set(la, dice)
  }
  let sum = 0
  for (const la of areaA.keys()) sum += best.get(la) ?? 0
  return sum / areaA.size
}

/** BD(a, b): mean over the leaves of `a` of the best Dice with a leaf of `b`. */
export function bestDice(a: Labels, b: Labels): number {
  const { areaA, areaB, shared } = overlaps(a, b)
  return bestDiceFrom(areaA, areaB, shared, true)
}

/** SBD, DiC and FBD of a predicted label image against the true one (same size, 0 = background). */
export function instanceScores(predicted: Labels, truth: Labels): InstanceScores {
  const { areaA, areaB, shared } = overlaps(predicted, truth)
  const swapped = new Map<number, number>()
  for (const [key, both] of shared) swapped.set((key % 65536) * 65536 + Math.floor(key / 65536), both)
  const sbd = Math.min(bestDiceFrom(areaA, areaB, shared, true), bestDiceFrom(areaB, areaA, swapped, true))
  let foregroundBoth = 0
  for (const both of shared.values()) foregroundBoth += both
  let foregroundPredicted = 0
  let foregroundTruth = 0
  for (const v of areaA.values()) foregroundPredicted += v
  for (const v of areaB.values()) foregroundTruth += v
  const fbd = foregroundPredicted + foregroundTruth === 0 ? 1 : (2 * foregroundBoth) / (foregroundPredicted + foregroundTruth)
  return { sbd, dic: areaA.size - areaB.size, fbd, predicted: areaA.size, truth: areaB.size }
}

export function summariseInstances(list: InstanceScores[]): InstanceSummary | null {
  if (list.length === 0) return null
  const mean = (f: (s: InstanceScores) => number) => list.reduce((sum, s) => sum + f(s), 0) / list.length
  return { sbd: mean((s) => s.sbd), dic: mean((s) => s.dic), absDic: mean((s) => Math.abs(s.dic)), fbd: mean((s) => s.fbd), photos: list.length }
}
