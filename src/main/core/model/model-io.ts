// Saving and loading models in the tfjs layers format (model.json + weights.bin) with plain fs, so it
// works on every backend (tfjs's file:// handler exists only with tfjs-node). Files are written to a
// temporary name in the same folder and renamed.
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { tf } from './backend'
import { tempFolderFor } from '../store/temp'
import { writeAtomic } from '../store/atomic'
import { assignWeights, modelWeights, type WeightSet } from './engine'

export const MODEL_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.bin'
export const META_FILE = 'leafseg.json'
const OPTIMIZER_FILE = 'optimizer.json'
const OPTIMIZER_WEIGHTS_FILE = 'optimizer.bin'

/**
 * Write a folder atomically: `fill` writes into a fresh temporary sibling folder, which then replaces
 * `dir` (the previous version is kept as `<dir>.old` until the swap is done, so a crash leaves one whole copy).
 */
export async function replaceFolder(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = tempFolderFor(dir)
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
  /** The network separates leaves: its output has a second channel (see leafMap). */
  instances?: boolean
  /**
   * What that second channel is: 'centre', each leaf's normalised distance to its border (model/instances.ts).
   * Absent on leaf runs trained before it, whose second channel was a touching band (no longer decoded into leaves).
   */
  leafMap?: 'centre'
  /**
   * The centre level that separated the validation photos' leaves best (chosen each epoch from a few levels);
   * prediction rescales the centre map so that this level reads as SEED_LEVEL (model/tiling.ts fullResolution).
   */
  seedLevel?: number
}

/** A checkpoint as data: the tfjs layers topology (model.toJSON) and every variable, float32. */
export interface Checkpoint {
  topology: unknown
  weights: WeightSet
}

/** The bytes of a float32 array (copied, so the file is written from exactly these values). */
function float32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
}

/** Float32 values of weight data in a manifest's dtypes (float32, or int32 as older optimizer files hold). */
function float32Values(bytes: Uint8Array, specs: Array<{ name: string; shape: number[]; dtype?: string }>, file: string): WeightSet {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const count = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0)
  if (buffer.byteLength !== count * 4) throw new Error(`${file} holds ${buffer.byteLength} bytes where its manifest lists ${count * 4}.`)
  const data = new Float32Array(count)
  let offset = 0
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1)
    const dtype = s.dtype ?? 'float32'
    if (dtype === 'float32') data.set(new Float32Array(buffer, offset * 4, size), offset)
    else if (dtype === 'int32') data.set(new Int32Array(buffer, offset * 4, size), offset)
    else throw new Error(`${file}: ${s.name} is ${dtype}; only float32 and int32 weights are supported.`)
    offset += size
  }
  return { specs: specs.map((s) => ({ name: s.name, shape: s.shape })), data }
}

/**
 * Write a checkpoint as dir/model.json + dir/weights.bin (+ dir/leafseg.json with `meta`) in the tfjs layers
 * format, from weights any engine gave: a checkpoint trained on the GPU worker loads on wasm and the reverse.
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint, meta?: ModelMeta): Promise<void> {
  if (meta) await writeAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2))
  const json = {
    modelTopology: checkpoint.topology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: checkpoint.weights.specs.map((s) => ({ ...s, dtype: 'float32' })) }]
  }
  await writeAtomic(join(dir, WEIGHTS_FILE), float32Bytes(checkpoint.weights.data))
  await writeAtomic(join(dir, MODEL_FILE), JSON.stringify(json))
}

/** Read a checkpoint written by writeCheckpoint (or any single-group tfjs layers model of float32 weights). */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const folder = (await readableFolder(dir)) ?? dir
  try {
    const json = JSON.parse(await readFile(join(folder, MODEL_FILE), 'utf8')) as tf.io.ModelJSON
    const specs: tf.io.WeightsManifestEntry[] = []
    const buffers: Uint8Array[] = []
    for (const group of json.weightsManifest) {
      specs.push(...group.weights)
      for (const p of group.paths) buffers.push(await readFile(join(folder, p)))
    }
    return { topology: json.modelTopology, weights: float32Values(Buffer.concat(buffers), specs, join(folder, WEIGHTS_FILE)) }
  } catch (err) {
    throw new Error(`Cannot load the model in ${dir}: ${(err as Error).message}`)
  }
}

/** Save a layers model as a checkpoint (see writeCheckpoint); dir must exist. */
export async function saveModelFiles(model: tf.LayersModel, dir: string, meta?: ModelMeta): Promise<void> {
  await writeCheckpoint(dir, { topology: model.toJSON(null, false), weights: await modelWeights(model) }, meta)
}

/** Load a checkpoint as a layers model on the current backend. The error names the folder. */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const { topology, weights } = await readCheckpoint(dir)
  try {
    const model = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON)
    try {
      assignWeights(model, weights)
    } catch (err) {
      model.dispose()
      throw err
    }
    return model
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

/** Save an optimizer's state (Adam: iteration count and both moments, in the layers' order) next to a model. */
export async function writeOptimizerState(dir: string, state: WeightSet): Promise<void> {
  await writeAtomic(join(dir, OPTIMIZER_WEIGHTS_FILE), float32Bytes(state.data))
  await writeAtomic(join(dir, OPTIMIZER_FILE), JSON.stringify({ className: 'Adam', specs: state.specs.map((s) => ({ ...s, dtype: 'float32' })) }))
}

/** The saved Adam state; null when the folder has none (older checkpoint, or another optimizer). */
export async function readOptimizerState(dir: string): Promise<WeightSet | null> {
  if (!(await exists(join(dir, OPTIMIZER_FILE)))) return null
  const { className, specs } = JSON.parse(await readFile(join(dir, OPTIMIZER_FILE), 'utf8')) as { className: string; specs: tf.io.WeightsManifestEntry[] }
  if (className !== 'Adam') return null
  return float32Values(await readFile(join(dir, OPTIMIZER_WEIGHTS_FILE)), specs, join(dir, OPTIMIZER_WEIGHTS_FILE))
}
