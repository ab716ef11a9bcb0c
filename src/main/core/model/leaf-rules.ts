// The two rules that turn a network's maps into leaves, in a module of their own (no imports), so masks, tiling,
// leaf separation and the metrics share them without importing each other.

/** Whether a pixel with probability p is predicted leaf at `threshold`: the one rule masks, leaves and metrics follow. */
export function isPredictedLeaf(p: number, threshold: number): boolean {
  return threshold <= 0 || p >= threshold
}

/** Seeds are where a leaf's normalised distance to its border reaches half its peak. */
export const SEED_LEVEL = 0.5
