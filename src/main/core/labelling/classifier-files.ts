// A pixel classifier on disk: one JSON file, written to a temp name then renamed. A file read back may have been
// edited or replaced by anyone, so every count is bounded and every node index checked before a tree is walked
// (a child index that points back up would loop forever).
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { writeAtomic } from '../store/atomic'
import { featureCount } from './pixel-features'
import type { PixelClassifier } from './pixel-classifier'

const format = 'leafseg-pixel-classifier'
export const classifierBounds = { maxTrees: 1000, maxNodes: 2_000_000, maxSigmas: 8, maxBytes: 64 * 2 ** 20, maxFeaturePixels: 16_000_000 }

export async function writeClassifierFile(path: string, c: PixelClassifier): Promise<void> {
  const f = c.forest
  const json = {
    format,
    version: 1,
    sigmas: c.sigmas,
    maxFeaturePixels: c.maxFeaturePixels,
    samples: c.samples,
    featureCount: f.featureCount,
    roots: Array.from(f.roots),
    feature: Array.from(f.feature),
    threshold: Array.from(f.threshold),
    left: Array.from(f.left),
    value: Array.from(f.value)
  }
  await writeAtomic(path, JSON.stringify(json))
}

/** Read and check a classifier file; the error names the file and what is wrong with it. */
export async function readClassifierFile(path: string): Promise<PixelClassifier> {
  const name = basename(path)
  const bad = (why: string) => new Error(`${name} is not a pixel classifier Leafseg can use: ${why}.`)
  const size = (await stat(path)).size
  if (size > classifierBounds.maxBytes) throw bad(`it is ${size} bytes, more than ${classifierBounds.maxBytes}`)
  let j: Record<string, unknown>
  try {
    j = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw bad(`it is not JSON (${(err as Error).message})`)
  }
  if (!j || typeof j !== 'object' || j.format !== format) throw bad(`its format is not “${format}”`)
  if (j.version !== 1) throw bad(`version ${String(j.version)} is not one this Leafseg reads`)
  const numbers = (key: string, max: number): number[] => {
    const v = j[key]
    if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw bad(`“${key}” is not a list of at most ${max} numbers`)
    return v as number[]
  }
  const sigmas = numbers('sigmas', classifierBounds.maxSigmas)
  if (sigmas.length === 0 || sigmas.some((s) => s < 0.3 || s > 32)) throw bad('its scales (sigmas) must be 1 to 8 values from 0.3 to 32')
  const count = featureCount(sigmas)
  if (j.featureCount !== count) throw bad(`it says ${String(j.featureCount)} features, but its scales give ${count}`)
  const maxFeaturePixels = j.maxFeaturePixels
  if (
    typeof maxFeaturePixels !== 'number' ||
    !Number.isInteger(maxFeaturePixels) ||
    maxFeaturePixels < 1024 ||
    maxFeaturePixels > classifierBounds.maxFeaturePixels
  )
    throw bad(`maxFeaturePixels must be a whole number from 1024 to ${classifierBounds.maxFeaturePixels}`)
  const samples = j.samples as { leaf?: unknown; background?: unknown } | undefined
  if (!samples || !Number.isInteger(samples.leaf) || !Number.isInteger(samples.background))
    throw bad('“samples” must give the leaf and background pixel counts')
  const roots = numbers('roots', classifierBounds.maxTrees)
  const feature = numbers('feature', classifierBounds.maxNodes)
  const threshold = numbers('threshold', classifierBounds.maxNodes)
  const left = numbers('left', classifierBounds.maxNodes)
  const value = numbers('value', classifierBounds.maxNodes)
  const nodes = feature.length
  if (roots.length === 0) throw bad('it has no trees')
  if (threshold.length !== nodes || left.length !== nodes || value.length !== nodes) throw bad('its node lists differ in length')
  for (const r of roots) if (!Number.isInteger(r) || r < 0 || r >= nodes) throw bad(`a tree's root (${r}) is not one of its ${nodes} nodes`)
  for (let i = 0; i < nodes; i++) {
    const f = feature[i]
    if (!Number.isInteger(f) || f < -1 || f >= count) throw bad(`node ${i} tests feature ${f}, not one of its ${count}`)
    // children come after their parent, so every walk ends
    if (f >= 0 && (!Number.isInteger(left[i]) || left[i] <= i || left[i] + 1 >= nodes)) throw bad(`node ${i}'s children (${left[i]}) are not nodes after it`)
    if (f < 0 && !(value[i] >= 0 && value[i] <= 1)) throw bad(`leaf node ${i} has probability ${value[i]}, not one from 0 to 1`)
  }
  return {
    sigmas,
    maxFeaturePixels,
    samples: { leaf: samples.leaf as number, background: samples.background as number },
    forest: {
      featureCount: count,
      roots: Int32Array.from(roots),
      feature: Int16Array.from(feature),
      threshold: Float32Array.from(threshold),
      left: Int32Array.from(left),
      value: Float32Array.from(value)
    }
  }
}
