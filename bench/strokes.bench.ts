// The pixel classifier from strokes on komatsuna, as issue 25 measures it: `leafseg import` with masks, `leafseg split
// --ratio 80/20/0 --seed 1`; then strokes are simulated by sampling N = 200 pixels of each class from the masks of K
// training photos (K = 1, 3; seeded), a classifier is trained, and the 60 validation photos are predicted.
//   strokes.komatsuna.dice (mean foreground Dice, 0–100; one line per K, mean over draws with the worst draw),
//   strokes.komatsuna.train_ms, strokes.komatsuna.predict_ms_per_mp, strokes.komatsuna.exg_otsu.dice (the baseline),
//   strokes.komatsuna.http.dice and .http.ms_per_mp: the same through the web host's API (labels.saveStrokes,
//   labels.trainClassifier, labels.classifyPhoto), K = 3, first draw.
// LEAFSEG_BENCH_STROKES_DRAWS (default 3) draws averaged; LEAFSEG_KOMATSUNA: the data.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { callHostValue } from './host-call'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench } from './types'
import { readRaster, type Raster } from '../src/main/core/imaging/raster'
import { classifyPixels, trainPixelClassifier } from '../src/main/core/labelling/pixel-classifier'
import { otsuThreshold } from '../src/main/core/labelling/pixel-features'
import { seededRandom } from '../src/shared/random'
import { LeafsegService } from '../src/main/core/service/service'
import { forkJobProcess } from '../src/node-host/job-process'
import { startWebHost } from '../src/web/server'
import { decodeRle, encodeRle } from '../src/shared/rle'

const komatsuna = process.env.LEAFSEG_KOMATSUNA ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'komatsuna')
const cli = join(import.meta.dirname, '..', 'bin', 'leafseg.js')
const perClass = 200

function leafseg(...args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }))
}

interface Photo {
  id: number
  name: string
  rgb: Raster
  truth: Uint8Array
}

async function load(id: number, name: string): Promise<Photo> {
  const rgb = await readRaster(join(komatsuna, 'rgb', name), 3)
  const label = await readRaster(join(komatsuna, 'label', name.replace(/^rgb_/, 'label_')), 3)
  const truth = new Uint8Array(rgb.width * rgb.height)
  for (let i = 0; i < truth.length; i++) truth[i] = label.data[i * 3] || label.data[i * 3 + 1] || label.data[i * 3 + 2] ? 1 : 0
  return { id, name, rgb, truth }
}

function dice(pred: ArrayLike<number>, truth: Uint8Array): number {
  let inter = 0
  let a = 0
  let b = 0
  for (let i = 0; i < truth.length; i++) {
    const q = pred[i] ? 1 : 0
    inter += q & truth[i]
    a += q
    b += truth[i]
  }
  return a + b ? (2 * inter) / (a + b) : 1
}

/** Strokes as sampled pixels of each class of the truth: 1 leaf, 2 background. */
function sampleStrokes(truth: Uint8Array, random: () => number): Uint8Array {
  const strokes = new Uint8Array(truth.length)
  for (const [cls, v] of [
    [1, 1],
    [0, 2]
  ]) {
    const where: number[] = []
    for (let i = 0; i < truth.length; i++) if (truth[i] === cls) where.push(i)
    for (let j = 0; j < perClass && where.length; j++) strokes[where[Math.floor(random() * where.length)]] = v
  }
  return strokes
}

/** Excess green (2G − R − B) thresholded by Otsu's method: the classic leaf-from-soil baseline. */
function exgOtsu(rgb: Raster): Uint8Array {
  const n = rgb.width * rgb.height
  const exg = new Float32Array(n)
  for (let i = 0; i < n; i++) exg[i] = 2 * rgb.data[i * 3 + 1] - rgb.data[i * 3] - rgb.data[i * 3 + 2]
  const threshold = otsuThreshold(exg)
  return Uint8Array.from(exg, (x) => (x > threshold ? 1 : 0))
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

const bench: Bench = {
  area: 'strokes',
  async run(emit, wanted) {
    if (!wanted('strokes.komatsuna')) return
    if (!existsSync(join(komatsuna, 'rgb'))) {
      emit({ bench: 'strokes.komatsuna.dice', value: null, unit: 'dice %', note: `no komatsuna data at ${komatsuna}` })
      return
    }
    const draws = Number(process.env.LEAFSEG_BENCH_STROKES_DRAWS ?? 3)
    if (!Number.isInteger(draws) || draws < 1)
      throw new Error(`LEAFSEG_BENCH_STROKES_DRAWS must be a whole number, not “${process.env.LEAFSEG_BENCH_STROKES_DRAWS}”.`)
    const temp = mkdtempSync(join(tmpdir(), 'leafseg-bench-strokes-'))
    const project = join(temp, 'komatsuna')
    leafseg('project', 'create', project, '--name', 'Strokes bench')
    leafseg('import', join(komatsuna, 'rgb'), '--project', project, '--dataset', 'komatsuna', '--masks', join(komatsuna, 'label'))
    leafseg('split', '--project', project, '--dataset', 'komatsuna', '--ratio', '80/20/0', '--seed', '1')
    const service = new LeafsegService({ host: 'web', userDataDir: temp, jobProcess: forkJobProcess, typedPathsAreChoices: true })
    const host = await startWebHost({ service, staticDir: temp })
    try {
      const api = service.api
      await api['projects.open']({ dir: project })
      const dataset = (await api['datasets.list']({})).find((d) => d.name === 'komatsuna')!
      const list = async (split: 'train' | 'val') =>
        (await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 1000, filter: { split }, sort: 'name' })).photos
      const train = await list('train')
      const validation = await Promise.all((await list('val')).map((p) => load(p.id, p.name)))
      const megapixels = validation.reduce((s, p) => s + p.truth.length, 0) / 1e6
      const exg = mean(validation.map((p) => dice(exgOtsu(p.rgb), p.truth)))
      for (const k of [1, 3]) {
        const dices: number[] = []
        const trainMs: number[] = []
        const predictMs: number[] = []
        for (let d = 0; d < draws; d++) {
          const random = seededRandom(1000 * k + d)
          const picked = [...train]
          const chosen: typeof train = []
          for (let j = 0; j < k; j++) chosen.push(...picked.splice(Math.floor(random() * picked.length), 1))
          const photos = await Promise.all(chosen.map((p) => load(p.id, p.name)))
          const strokes = photos.map((p) => ({ rgb: p.rgb, strokes: sampleStrokes(p.truth, random) }))
          let started = performance.now()
          const classifier = trainPixelClassifier(strokes)
          trainMs.push(performance.now() - started)
          started = performance.now()
          const ds = validation.map((p) => {
            const prob = classifyPixels(classifier, p.rgb)
            return dice(
              prob.map((x) => (x >= 0.5 ? 1 : 0)),
              p.truth
            )
          })
          predictMs.push(performance.now() - started)
          dices.push(mean(ds) * 100)
        }
        emit({
          bench: 'strokes.komatsuna.dice',
          value: Number(mean(dices).toFixed(1)),
          unit: 'dice %',
          photos: k,
          min: Number(Math.min(...dices).toFixed(1)),
          draws,
          per_class: perClass,
          validation_photos: validation.length,
          train_ms: Math.round(mean(trainMs)),
          train_ms_max: Math.round(Math.max(...trainMs)),
          predict_ms_per_mp: Math.round(mean(predictMs) / megapixels)
        })
      }
      emit({ bench: 'strokes.komatsuna.exg_otsu.dice', value: Number((exg * 100).toFixed(1)), unit: 'dice %', validation_photos: validation.length })

      // the same through the web host's API over HTTP: what a lab's own held-out photos can be measured with
      const random = seededRandom(3000)
      const picked = [...train]
      const chosen: typeof train = []
      for (let j = 0; j < 3; j++) chosen.push(...picked.splice(Math.floor(random() * picked.length), 1))
      for (const c of chosen) {
        const p = await load(c.id, c.name)
        const s = sampleStrokes(p.truth, random)
        const rle = (v: number) =>
          encodeRle(
            s.map((x) => (x === v ? 1 : 0)),
            p.rgb.width,
            p.rgb.height
          )
        await callHostValue(host, 'labels.saveStrokes', { photoId: c.id, strokes: { leaf: rle(1), background: rle(2) } })
      }
      let started = performance.now()
      const state = await callHostValue(host, 'labels.trainClassifier', { datasetId: dataset.id })
      const trainHttpMs = performance.now() - started
      started = performance.now()
      const ds: number[] = []
      for (const p of validation) {
        const answer = await callHostValue(host, 'labels.classifyPhoto', { photoId: p.id })
        ds.push(dice(decodeRle(answer.mask), p.truth))
      }
      const httpMs = performance.now() - started
      emit({
        bench: 'strokes.komatsuna.http.dice',
        value: Number((mean(ds) * 100).toFixed(1)),
        unit: 'dice %',
        photos: 3,
        train_ms: Math.round(trainHttpMs),
        train_ms_in_thread: state.trainMs,
        ms_per_mp: Math.round(httpMs / megapixels),
        note: 'labels.saveStrokes, labels.trainClassifier and labels.classifyPhoto over HTTP; each photo classified once (its features not kept yet)'
      })
    } finally {
      await host.close()
      service.dispose()
    }
  }
}

export default bench
