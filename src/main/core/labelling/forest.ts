// A small random forest for two classes (leaf = 1, background = 0): bootstrapped trees, √(features) candidates
// per split, Gini impurity, depth-limited, seeded. Splits are searched on each feature's quantile bins (64),
// found once for the training set, so a split costs O(samples) rather than a sort: a hundred trees train on a
// few thousand samples in tens of milliseconds. Trees are flattened into typed arrays (a node's right child
// follows its left child), and a pixel walks every tree in one loop.
import { seededRandom } from '../../../shared/random'

export interface ForestOptions {
  trees: number
  maxDepth: number
  /** A node with fewer samples is a leaf. */
  minSplit: number
  seed: number
}

export const defaultForestOptions: ForestOptions = { trees: 100, maxDepth: 12, minSplit: 2, seed: 1 }

/** Every tree's nodes, one after another. Leaves have feature −1 and hold P(leaf) in `value`. */
export interface Forest {
  featureCount: number
  /** Index of each tree's root node. */
  roots: Int32Array
  feature: Int16Array
  threshold: Float32Array
  /** Index of the left child (the right child is left + 1); unused for leaves. */
  left: Int32Array
  value: Float32Array
}

const bins = 64

/** Train on `x` (samples × featureCount, row-major) with labels `y` (0 or 1). */
export function trainForest(x: Float32Array, y: Uint8Array, featureCount: number, options: Partial<ForestOptions> = {}): Forest {
  const opt = { ...defaultForestOptions, ...options }
  const n = y.length
  if (n === 0) throw new Error('No samples to train on.')
  if (x.length !== n * featureCount) throw new Error(`internal: ${x.length} values for ${n} samples of ${featureCount} features`)
  const random = seededRandom(opt.seed)
  // each feature's bin edges (quantiles of its values), and each sample's bin
  const edges: Float32Array[] = []
  const binOf = new Uint8Array(n * featureCount)
  const column = new Float32Array(n)
  for (let f = 0; f < featureCount; f++) {
    for (let i = 0; i < n; i++) column[i] = x[i * featureCount + f]
    const sorted = Float32Array.from(column).sort()
    const e: number[] = []
    for (let q = 1; q < bins; q++) {
      const v = sorted[Math.min(n - 1, Math.floor((q * n) / bins))]
      if (e.length === 0 || v > e[e.length - 1]) e.push(v)
    }
    // a bin holds values ≤ its edge; the last bin everything above
    const fe = Float32Array.from(e)
    edges.push(fe)
    for (let i = 0; i < n; i++) {
      const v = column[i]
      let lo = 0
      let hi = fe.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (v <= fe[mid]) hi = mid
        else lo = mid + 1
      }
      binOf[i * featureCount + f] = lo
    }
  }
  const mtry = Math.max(1, Math.round(Math.sqrt(featureCount)))
  const feature: number[] = []
  const threshold: number[] = []
  const left: number[] = []
  const value: number[] = []
  const roots: number[] = []
  const idx = new Int32Array(n)
  const count0 = new Float64Array(bins)
  const count1 = new Float64Array(bins)
  const chosen = new Int32Array(featureCount)
  for (let t = 0; t < opt.trees; t++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n)
    const root = feature.length
    roots.push(root)
    feature.push(-1)
    threshold.push(0)
    left.push(0)
    value.push(0)
    const stack: { node: number; start: number; end: number; depth: number }[] = [{ node: root, start: 0, end: n, depth: 0 }]
    while (stack.length) {
      const { node, start, end, depth } = stack.pop()!
      const size = end - start
      let ones = 0
      for (let i = start; i < end; i++) ones += y[idx[i]]
      value[node] = ones / size
      if (ones === 0 || ones === size || size < opt.minSplit || depth >= opt.maxDepth) continue
      // √F distinct features (partial Fisher–Yates)
      for (let f = 0; f < featureCount; f++) chosen[f] = f
      let best = { gain: 1e-12, f: -1, bin: -1 }
      const parent = 1 - (ones / size) ** 2 - (1 - ones / size) ** 2
      for (let c = 0; c < mtry; c++) {
        const j = c + Math.floor(random() * (featureCount - c))
        const f = chosen[j]
        chosen[j] = chosen[c]
        chosen[c] = f
        const nb = edges[f].length + 1
        count0.fill(0, 0, nb)
        count1.fill(0, 0, nb)
        for (let i = start; i < end; i++) {
          const s = idx[i]
          if (y[s]) count1[binOf[s * featureCount + f]]++
          else count0[binOf[s * featureCount + f]]++
        }
        let l0 = 0
        let l1 = 0
        for (let k = 0; k < nb - 1; k++) {
          l0 += count0[k]
          l1 += count1[k]
          const nl = l0 + l1
          const nr = size - nl
          if (nl === 0 || nr === 0) continue
          const r1 = ones - l1
          const r0 = nr - r1
          const gini = (nl * (1 - (l0 / nl) ** 2 - (l1 / nl) ** 2) + nr * (1 - (r0 / nr) ** 2 - (r1 / nr) ** 2)) / size
          const gain = parent - gini
          if (gain > best.gain) best = { gain, f, bin: k }
        }
      }
      if (best.f < 0) continue
      // partition: samples in bins ≤ best.bin go left
      let i = start
      let j = end - 1
      while (i <= j) {
        if (binOf[idx[i] * featureCount + best.f] <= best.bin) i++
        else {
          const s = idx[i]
          idx[i] = idx[j]
          idx[j] = s
          j--
        }
      }
      const l = feature.length
      feature[node] = best.f
      threshold[node] = edges[best.f][best.bin]
      left[node] = l
      for (let k = 0; k < 2; k++) {
        feature.push(-1)
        threshold.push(0)
        left.push(0)
        value.push(0)
      }
      stack.push({ node: l, start, end: i, depth: depth + 1 }, { node: l + 1, start: i, end, depth: depth + 1 })
    }
  }
  return {
    featureCount,
    roots: Int32Array.from(roots),
    feature: Int16Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    value: Float32Array.from(value)
  }
}

/**
 * P(leaf) for each pixel of `x` (feature planes: feature f of pixel p at f·pixels + p), written to `out`.
 * A pixel on which the first 24 trees agree completely (all below 0.02 or all above 0.98 on average) stops
 * there: most of a photo is plainly leaf or plainly background, and its remaining trees would not move it
 * out of the review queue's unsure band.
 */
export function predictForest(forest: Forest, x: Float32Array, out: Float32Array): void {
  const { roots, feature, threshold, left, value, featureCount } = forest
  const trees = roots.length
  const pixels = x.length / featureCount
  const early = Math.min(24, trees)
  for (let p = 0; p < pixels; p++) {
    let sum = 0
    let t = 0
    for (; t < trees; t++) {
      let node = roots[t]
      let f = feature[node]
      while (f >= 0) {
        node = x[f * pixels + p] <= threshold[node] ? left[node] : left[node] + 1
        f = feature[node]
      }
      sum += value[node]
      if (t + 1 === early && early < trees) {
        const mean = sum / early
        if (mean < 0.02 || mean > 0.98) {
          t++
          break
        }
      }
    }
    out[p] = sum / t
  }
}
