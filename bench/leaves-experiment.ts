// A quick experiment on komatsuna's leaves, in one process (no CLI, no jobs): trains a leaf run on the 240 training
// photos of a project made by `leafseg split --ratio 80/20/0 --seed 1` (the bench's split), with one wasm worker,
// then measures its best checkpoint on the 60 validation photos: SBD, |DiC| and FBD for several decoding settings,
// without and with flip/rotation averaging. For comparing leaf representations and settings in minutes; the figure
// of record is `npm run bench -- instances`.
//   npx tsx bench/leaves-experiment.ts PROJECT_DIR
// Settings by environment: SIZE (128), FILTERS (16), DEPTH (4), SCALE (1; 'whole' for whole photos squeezed),
// EPOCHS (6), BATCH (8), LR (0.001), SEED (1), TRAIN (how many training photos, default all), OUT (run folder);
// CHECKPOINT=last measures the last checkpoint; TRANSFORMS=8 also measures flip/rotation averaging; MAPS=FILE keeps the predicted maps;
// MEASURE_ONLY=RUN_FOLDER measures that folder's best checkpoint (e.g. while its run still trains) without training.
import Database from 'better-sqlite3'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { serialize } from 'node:v8'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEngine } from '../src/main/core/model/engine-choice'
import { trainUnet } from '../src/main/core/training/train'
import { DEFAULT_AUGMENT, type Sample, type Sampling } from '../src/main/core/training/data'
import { readCheckpoint, loadModelMeta } from '../src/main/core/model/model-io'
import { fullResolution, predictPhoto, type Predictor, type ProbabilityMap } from '../src/main/core/model/tiling'
import { separateLeaves } from '../src/main/core/model/instances'
import { instanceScores, summariseInstances } from '../src/main/core/evaluation/instances'
import { readInstanceFile } from '../src/main/core/datasets/instances'
import { readRaster } from '../src/main/core/imaging/raster'

const project = process.argv[2]
if (!project) throw new Error('usage: npx tsx bench/leaves-experiment.ts PROJECT_DIR')
const env = (name: string, fallback: string) => process.env[name] ?? fallback
const size = Number(env('SIZE', '128'))
const sampling: Sampling = env('SCALE', '1') === 'whole' ? { mode: 'whole' } : { mode: 'crops', scale: Number(env('SCALE', '1')) }

const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
const rows = db
  .prepare('SELECT p.id, p.file, p.split, m.file AS mask, m.instances_file AS instances FROM photos p JOIN masks m ON m.photo_id = p.id ORDER BY p.name')
  .all() as { id: number; file: string; split: string; mask: string; instances: string }[]
db.close()
const sample = (r: (typeof rows)[number]): Sample => ({
  id: String(r.id),
  imagePath: join(project, r.file),
  maskPath: join(project, r.mask),
  instancesPath: join(project, r.instances)
})
const trainPhotos = rows
  .filter((r) => r.split === 'train')
  .map(sample)
  .slice(0, Number(env('TRAIN', '100000')))
const validation = rows.filter((r) => r.split === 'val').map(sample)

const measureOnly = process.env.MEASURE_ONLY
const runDir = measureOnly ?? env('OUT', mkdtempSync(join(tmpdir(), 'leaves-experiment-')))
const opened = await openEngine('wasm', { workers: 1 })
const settings = {
  size,
  filters: env('FILTERS', '16'),
  depth: env('DEPTH', '4'),
  sampling,
  epochs: env('EPOCHS', '6'),
  batch: env('BATCH', '8'),
  lr: env('LR', '0.001')
}
if (!measureOnly) await train()
async function train() {
  const started = performance.now()
  console.log(JSON.stringify({ runDir, train: trainPhotos.length, validation: validation.length, ...settings }))
  const result = await trainUnet({
    runDir,
    train: trainPhotos,
    validation,
    model: { inputSize: size, baseFilters: Number(settings.filters), depth: Number(settings.depth), instances: true },
    batchSize: Number(settings.batch),
    epochs: Number(settings.epochs),
    learningRate: Number(settings.lr),
    loss: 'bce+dice',
    augment: DEFAULT_AUGMENT,
    sampling,
    seed: Number(env('SEED', '1')),
    engine: opened,
    onEpoch(e) {
      const l = e.leaves
      console.log(
        `epoch ${e.epoch} ${e.seconds.toFixed(0)} s  loss ${e.train.loss.toFixed(3)}  val IoU ${e.validation.iou.toFixed(3)}  SBD ${l ? (l.sbd * 100).toFixed(1) : '-'}  |DiC| ${l?.absDic.toFixed(2)}  DiC ${l?.dic.toFixed(2)}  FBD ${l ? (l.fbd * 100).toFixed(1) : '-'}${e.best ? '  best' : ''}`
      )
    }
  })
  const trainSeconds = (performance.now() - started) / 1000
  console.log(`trained in ${trainSeconds.toFixed(0)} s; best epoch ${result.bestEpoch}`)
}

// The best checkpoint's maps of the validation photos, once plain and once averaged over the 8 flips and turns.
const best = join(runDir, env('CHECKPOINT', 'best'))
const checkpoint = await readCheckpoint(best)
const meta = (await loadModelMeta(best))!
console.log(`measuring ${best} (epoch ${meta.epoch})`)
await opened.engine.build({ network: { kind: 'topology', topology: checkpoint.topology }, weights: checkpoint.weights, loss: 'bce', learningRate: 0 })
const { predictor, options } = fullResolution({ inputSize: meta.inputSize, meta, predictBatch: (x, n) => opened.engine.predict(x, n) })
const truths = await Promise.all(validation.map((s) => readInstanceFile(s.instancesPath!)))
for (const transforms of process.env.TRANSFORMS === '8' ? ([1, 8] as const) : ([1] as const)) {
  const t0 = performance.now()
  const maps: ProbabilityMap[] = []
  for (const s of validation) maps.push(await predictPhoto(withDihedralAverage(predictor, transforms), await readRaster(s.imagePath, 3), options))
  const predictSeconds = (performance.now() - t0) / 1000
  // The maps, for trying decoding settings without predicting again (MAPS=FILE).
  if (process.env.MAPS) writeFileSync(`${process.env.MAPS}.${transforms}`, serialize({ maps, truths }))
  for (const threshold of [0.5])
    for (const seedLevel of [0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6]) {
      const scores = maps.map((map, i) => instanceScores(separateLeaves(map, { threshold, seedLevel }).ids, truths[i].ids))
      const m = summariseInstances(scores)!
      console.log(
        `transforms ${transforms} threshold ${threshold} seed ${seedLevel}: SBD ${(m.sbd * 100).toFixed(1)} |DiC| ${m.absDic.toFixed(2)} DiC ${m.dic.toFixed(2)} FBD ${(m.fbd * 100).toFixed(1)}  (${predictSeconds.toFixed(0)} s to predict)`
      )
    }
}
await opened.close()

/**
 * Test-time augmentation: a predictor that predicts each tile in `transforms` of its 8 flips and quarter turns
 * (1, 2, 4 or 8; the first `transforms` of: as is, quarter turns, then mirrored) and averages the outputs turned
 * back. Costs `transforms` predictions a tile.
 */
function withDihedralAverage(predictor: Predictor, transforms: 1 | 2 | 4 | 8): Predictor {
  if (transforms === 1) return predictor
  const s = predictor.inputSize
  const channels = predictor.channels ?? 1
  // source[k][p]: the pixel of the original tile that pixel p of transform k shows.
  const source = Array.from({ length: transforms }, (_, k) => {
    const map = new Int32Array(s * s)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        let u = k >= 4 ? s - 1 - x : x
        let v = y
        for (let r = 0; r < k % 4; r++) [u, v] = [v, s - 1 - u]
        map[y * s + x] = v * s + u
      }
    return map
  })
  return {
    inputSize: s,
    channels,
    async predictBatch(rgb, n) {
      const pixels = s * s
      const input = new Float32Array(transforms * n * pixels * 3)
      for (let k = 0; k < transforms; k++)
        for (let t = 0; t < n; t++) {
          const to = (k * n + t) * pixels * 3
          const from = t * pixels * 3
          const map = source[k]
          for (let p = 0; p < pixels; p++) {
            const q = from + map[p] * 3
            input[to + p * 3] = rgb[q]
            input[to + p * 3 + 1] = rgb[q + 1]
            input[to + p * 3 + 2] = rgb[q + 2]
          }
        }
      const output = await predictor.predictBatch(input, transforms * n)
      const mean = new Float32Array(n * pixels * channels)
      for (let k = 0; k < transforms; k++)
        for (let t = 0; t < n; t++) {
          const from = (k * n + t) * pixels * channels
          const to = t * pixels * channels
          const map = source[k]
          for (let p = 0; p < pixels; p++) for (let c = 0; c < channels; c++) mean[to + map[p] * channels + c] += output[from + p * channels + c] / transforms
        }
      return mean
    }
  }
}
