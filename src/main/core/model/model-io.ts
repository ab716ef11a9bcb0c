// Saving and loading models in the tfjs layers format (model.json + weights.bin) with plain fs, so it
// works on every backend (tfjs's file:// handler exists only with tfjs-node). Files are written to a
// temporary name in the same folder and renamed.
import { lstat, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
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
  await (await prepareFolder(dir, fill)).commit()
}

export interface PreparedFolder {
  /** Swap the written folder in for `dir`. */
  commit(): Promise<void>
  /** Remove the written folder; `dir` stays as it was. */
  discard(): Promise<void>
}

/** replaceFolder in two steps: write the whole folder now (a failure removes it), swap it in later. */
export async function prepareFolder(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<PreparedFolder> {
  const tmp = tempFolderFor(dir)
  const old = `${dir}.old`
  const discard = () => rm(tmp, { recursive: true, force: true })
  await discard()
  await mkdir(tmp, { recursive: true })
  try {
    await fill(tmp)
  } catch (err) {
    await discard()
    throw err
  }
  return {
    discard,
    async commit() {
      await rm(old, { recursive: true, force: true })
      if (await exists(dir)) await rename(dir, old)
      await rename(tmp, dir)
      await rm(old, { recursive: true, force: true })
    }
  }
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

// A model folder can come from anywhere (a colleague, a download): its files are read only after checking that
// they are what the manifest says. model.json and leafseg.json are small; weights are checked against their specs.
const maxModelJsonBytes = 64 << 20
const maxMetaJsonBytes = 1 << 20
/** Largest total of weights read (float32): far above the seed U-Net's 31 million parameters. */
const maxWeightBytes = 4 * 1_000_000_000

/** A JSON file of a model folder, refused by name when it is not a regular file, too large or not JSON. */
async function readModelJsonFile(file: string, maxBytes: number): Promise<unknown> {
  const info = await stat(file)
  if (!info.isFile()) throw new Error(`${file} is not a regular file.`)
  if (info.size > maxBytes)
    throw new Error(`${file} is ${info.size} bytes; a model's ${file.endsWith(MODEL_FILE) ? MODEL_FILE : 'settings file'} is at most ${maxBytes}.`)
  const text = await readFile(file, 'utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); the file may be cut short or edited.`)
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isShape = (v: unknown): v is number[] => Array.isArray(v) && v.length <= 8 && v.every((d) => Number.isInteger(d) && d >= 0 && d <= 1 << 24)

/**
 * The weight specs and files a model.json lists, checked before any weight is read: every path stays inside the
 * folder (not absolute, no `..`, no symlink leading out), names a regular file (not a FIFO or a device), and the
 * files' sizes add up to exactly what the specs' shapes need.
 */
async function checkedWeights(folder: string, json: Record<string, unknown>, file: string): Promise<{ specs: tf.io.WeightsManifestEntry[]; paths: string[] }> {
  const manifest = json.weightsManifest
  if (!Array.isArray(manifest) || manifest.length > 1000) throw new Error(`${file}: weightsManifest is not a list of weight groups.`)
  const specs: tf.io.WeightsManifestEntry[] = []
  const paths: string[] = []
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw new Error(`${file}: a weightsManifest group lacks its paths or weights.`)
    for (const w of group.weights) {
      if (!isRecord(w) || typeof w.name !== 'string' || !isShape(w.shape) || (w.dtype !== undefined && w.dtype !== 'float32' && w.dtype !== 'int32')) {
        throw new Error(`${file}: a weight has no name, no shape of whole numbers, or a dtype other than float32 and int32.`)
      }
      specs.push(w as unknown as tf.io.WeightsManifestEntry)
    }
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '' || isAbsolute(p) || p.split(/[/\\]/).includes('..'))
        throw new Error(`${file}: the weights path ${JSON.stringify(p).slice(0, 200)} leads out of the model folder.`)
      paths.push(join(folder, p))
    }
  }
  const needed = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 4, 0)
  if (needed > maxWeightBytes) throw new Error(`${file} lists ${needed} bytes of weights; Leafseg reads at most ${maxWeightBytes}.`)
  const realFolder = await realpath(folder)
  let held = 0
  for (const path of paths) {
    const real = await realpath(path).catch(() => {
      throw new Error(`${file} lists ${relative(folder, path)}, which is missing.`)
    })
    if (real !== realFolder && !real.startsWith(realFolder + sep))
      throw new Error(`${file} lists ${relative(folder, path)}, a link that leads out of the model folder.`)
    const info = await lstat(real)
    if (!info.isFile()) throw new Error(`${file} lists ${relative(folder, path)}, which is not a regular file.`)
    held += info.size
  }
  if (held !== needed)
    throw new Error(`${paths.map((p) => relative(folder, p)).join(', ')} ${paths.length === 1 ? 'holds' : 'hold'} ${held} bytes where ${file} lists ${needed}.`)
  return { specs, paths }
}

/** Read a checkpoint written by writeCheckpoint (or any tfjs layers model of float32 weights), checked first. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const folder = (await readableFolder(dir)) ?? dir
  try {
    const file = join(folder, MODEL_FILE)
    const json = await readModelJsonFile(file, maxModelJsonBytes)
    if (!isRecord(json)) throw new Error(`${file} is not a tfjs layers model.`)
    const { specs, paths } = await checkedWeights(folder, json, file)
    const buffers: Uint8Array[] = []
    for (const p of paths) buffers.push(await readFile(p))
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
  try {
    const meta = await readModelJsonFile(join(folder, META_FILE), maxMetaJsonBytes)
    if (!isRecord(meta)) throw new Error(`${join(folder, META_FILE)} is not an object of training settings.`)
    return meta as unknown as ModelMeta
  } catch (err) {
    throw new Error(`Cannot load the model in ${dir}: ${(err as Error).message}`)
  }
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
