// Saving and loading models in the tfjs layers format (model.json + weights.bin) with plain fs, so it
// works on every backend (tfjs's file:// handler exists only with tfjs-node). Files are written to a
// temporary name in the same folder and renamed.
import { mkdir, readFile, rename, rm, writeFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { tf } from './backend'

export const MODEL_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.bin'
export const META_FILE = 'leafseg.json'
const OPTIMIZER_FILE = 'optimizer.json'
const OPTIMIZER_WEIGHTS_FILE = 'optimizer.bin'

export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new Error(`Cannot write ${path}: ${(err as Error).message}`)
  }
}

function joinWeights(data: tf.io.WeightData): Uint8Array {
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data))
}

/**
 * Write a folder atomically: `fill` writes into a fresh temporary sibling folder, which then replaces
 * `dir` (the previous version is kept as `<dir>.old` until the swap is done, so a crash leaves one whole copy).
 */
export async function replaceFolder(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`
  const old = `${dir}.old`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  try {
    await fill(tmp)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  await rm(old, { recursive: true, force: true })
  if (await exists(dir)) await rename(dir, old)
  await rename(tmp, dir)
  await rm(old, { recursive: true, force: true })
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false
  )
}

/** The folder to read: `dir`, or `<dir>.old` when a crash interrupted a replaceFolder swap. */
export async function readableFolder(dir: string): Promise<string | null> {
  if (await exists(join(dir, MODEL_FILE))) return dir
  if (await exists(join(`${dir}.old`, MODEL_FILE))) return `${dir}.old`
  return null
}

/** What a prediction needs to know about how the model was trained (saved as leafseg.json). */
export interface ModelMeta {
  inputSize: number
  baseFilters: number
  depth: number
  /** How training photos became inputs; predict at the same scale (see data.ts Sampling). */
  sampling: { mode: 'whole' } | { mode: 'crops'; scale: number }
  loss: string
  epoch: number
  validationIoU: number
}

/** Save a layers model as dir/model.json + dir/weights.bin (+ dir/leafseg.json with `meta`); dir must exist. */
export async function saveModelFiles(model: tf.LayersModel, dir: string, meta?: ModelMeta): Promise<void> {
  if (meta) await writeAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2))
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? joinWeights(artifacts.weightData) : new Uint8Array()
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }]
      }
      await writeAtomic(join(dir, WEIGHTS_FILE), weights)
      await writeAtomic(join(dir, MODEL_FILE), JSON.stringify(json))
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) }
    })
  )
}

/** Load a model saved by saveModelFiles (or any single-shard tfjs layers model). The error names the folder. */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const folder = (await readableFolder(dir)) ?? dir
  try {
    const json = JSON.parse(await readFile(join(folder, MODEL_FILE), 'utf8')) as tf.io.ModelJSON
    const specs: tf.io.WeightsManifestEntry[] = []
    const buffers: Uint8Array[] = []
    for (const group of json.weightsManifest) {
      specs.push(...group.weights)
      for (const p of group.paths) buffers.push(await readFile(join(folder, p)))
    }
    const total = buffers.reduce((s, b) => s + b.length, 0)
    const weightData = new Uint8Array(total)
    let offset = 0
    for (const b of buffers) {
      weightData.set(b, offset)
      offset += b.length
    }
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }))
  } catch (err) {
    throw new Error(`Cannot load the model in ${dir}: ${(err as Error).message}`)
  }
}

/** The training facts saved with a model, or null for a model saved without them. */
export async function loadModelMeta(dir: string): Promise<ModelMeta | null> {
  const folder = (await readableFolder(dir)) ?? dir
  if (!(await exists(join(folder, META_FILE)))) return null
  return JSON.parse(await readFile(join(folder, META_FILE), 'utf8')) as ModelMeta
}

/** Save the optimizer's state (Adam: iteration count and both moments) next to a model. */
export async function saveOptimizerFiles(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const weights = await optimizer.getWeights()
  const { data, specs } = await tf.io.encodeWeights(weights)
  // getWeights returns the moments' own variables plus a fresh iteration-count tensor: free only the latter.
  tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor))
  await writeAtomic(join(dir, OPTIMIZER_WEIGHTS_FILE), joinWeights(data))
  await writeAtomic(join(dir, OPTIMIZER_FILE), JSON.stringify({ className: optimizer.getClassName(), specs }))
}

/** Restore the optimizer's state; false when the folder has none (older checkpoint). */
export async function loadOptimizerFiles(optimizer: tf.Optimizer, dir: string): Promise<boolean> {
  if (!(await exists(join(dir, OPTIMIZER_FILE)))) return false
  const { className, specs } = JSON.parse(await readFile(join(dir, OPTIMIZER_FILE), 'utf8')) as {
    className: string
    specs: tf.io.WeightsManifestEntry[]
  }
  if (className !== optimizer.getClassName()) return false
  const bytes = await readFile(join(dir, OPTIMIZER_WEIGHTS_FILE))
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), specs)
  // Order matters (Adam matches moments to variables by position): keep the saved order.
  try {
    await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: map[s.name] })))
  } finally {
    tf.dispose(Object.values(map)) // the optimizer's variables hold their own references
  }
  return true
}
