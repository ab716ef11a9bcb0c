// The box-and-click assist, by the standard click simulation of interactive segmentation (Xu et al. 2016):
// start from the truth's box enlarged by 5 % a side; after each proposal the next click goes to the point
// farthest from the border of the larger error region (a missed leaf: positive; a false one: negative), at most
// 20 clicks. NoC@90 / NoC@85: clicks until IoU reaches 0.90 / 0.85 (0 if the box alone does, 20 if never).
// On the 50 komatsuna photos whose names end in _00; native OpenCV's GrabCut by the same protocol
// (/work/shared/reference/grabcut_noc.py) runs beside it when python3-opencv is installed.
//   assist.komatsuna.noc90, .noc85 (engine: grabcut), assist.komatsuna.ms_per_click
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench } from './types'
import { readRaster } from '../src/main/core/imaging/raster'
import { opencv } from '../src/main/core/imaging/opencv'
import { GrabCutAssist, type AssistStart } from '../src/main/core/labelling/grabcut'
import { LeafsegService } from '../src/main/core/service/service'
import { inProcessJobs } from '../src/node-host/job-process'
import { runPredictor } from '../src/main/core/training/checkpoint'
import { predictPhoto } from '../src/main/core/model/tiling'
import { probabilityRaster } from '../src/main/core/model/mask'
import { tinyConfig } from '../tests/training/fixtures'
import type { AssistBox, AssistClick } from '../src/shared/api/labelling'
import type { Raster } from '../src/main/core/imaging/raster'
import { iou, protocolBox } from '../tests/helpers/leaf-photo'

const komatsuna = join(import.meta.dirname, '..', '..', 'shared', 'data', 'komatsuna')
const reference = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'grabcut_noc.py')
const maxClicks = 20

/** The next simulated click: the point farthest from the border of the larger error (L2 distance, 5×5 mask). */
function nextClick(truth: Uint8Array, pred: Uint8Array, width: number, height: number): AssistClick {
  const cv = opencv()
  let best: { d: number; x: number; y: number; leaf: boolean } | null = null
  for (const leaf of [true, false]) {
    // the error padded by one pixel of background, so the image border counts as the region's border
    const padded = cv.Mat.zeros(height + 2, width + 2, cv.CV_8UC1)
    const p = padded.data as Uint8Array
    let any = false
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x
        if (leaf ? truth[i] && !pred[i] : !truth[i] && pred[i]) {
          p[(y + 1) * (width + 2) + x + 1] = 1
          any = true
        }
      }
    }
    if (any) {
      const dist = new cv.Mat()
      cv.distanceTransform(padded, dist, cv.DIST_L2, 5)
      const d = dist.data32F as Float32Array
      let at = -1
      for (let y = 1; y <= height; y++) for (let x = 1; x <= width; x++) if (at < 0 || d[y * (width + 2) + x] > d[at]) at = y * (width + 2) + x
      const value = d[at]
      if (!best || value > best.d) best = { d: value, x: (at % (width + 2)) - 1, y: Math.floor(at / (width + 2)) - 1, leaf }
      dist.delete()
    }
    padded.delete()
  }
  return { x: best!.x, y: best!.y, leaf: best!.leaf }
}

function noc(ious: number[], threshold: number): number {
  const k = ious.findIndex((v) => v >= threshold)
  return k < 0 ? maxClicks : k
}

/** NoC over the photos; `startOf` gives each photo's start (the box, and for the model assist the run's probabilities). */
async function clickSimulation(names: string[], startOf: (name: string, rgb: Raster, box: AssistBox) => Promise<AssistStart>) {
  const n85: number[] = []
  const n90: number[] = []
  const box: number[] = []
  const times: number[] = []
  for (const name of names) {
    const rgb = await readRaster(join(komatsuna, 'rgb', `rgb_${name}.png`), 3)
    const label = await readRaster(join(komatsuna, 'label', `label_${name}.png`), 3)
    const truth = new Uint8Array(rgb.width * rgb.height)
    for (let i = 0; i < truth.length; i++) truth[i] = label.data[i * 3] || label.data[i * 3 + 1] || label.data[i * 3 + 2] ? 1 : 0
    const assist = new GrabCutAssist(rgb)
    const start = await startOf(name, rgb, protocolBox(truth, rgb.width, rgb.height))
    const clicks: AssistClick[] = []
    let t = performance.now()
    let pred = assist.propose(start, clicks)
    times.push(performance.now() - t)
    const ious = [iou(truth, pred)]
    while (clicks.length < maxClicks && ious[ious.length - 1] < 0.9) {
      clicks.push(nextClick(truth, pred, rgb.width, rgb.height))
      t = performance.now()
      pred = assist.propose(start, clicks)
      times.push(performance.now() - t)
      ious.push(iou(truth, pred))
    }
    assist.dispose()
    n85.push(noc(ious, 0.85))
    n90.push(noc(ious, 0.9))
    box.push(ious[0])
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
  const sorted = [...times].sort((a, b) => a - b)
  return {
    photos: names.length,
    noc85: mean(n85),
    noc90: mean(n90),
    failed90: n90.filter((v) => v >= maxClicks).length,
    boxIoU: mean(box),
    msMedian: sorted[Math.floor(sorted.length / 2)],
    msMean: mean(times)
  }
}

/**
 * The model assist: a run trained on the other 250 photos (25 of them for validation; the 50 measured photos
 * are its test split, never seen), its prediction inside the box as GrabCut's start, clicks correcting it.
 */
async function modelNoc(names: string[]) {
  const temp = mkdtempSync(join(tmpdir(), 'leafseg-bench-model-assist-'))
  const service = new LeafsegService({ host: 'cli', userDataDir: temp, jobProcess: inProcessJobs, typedPathsAreChoices: true })
  try {
    await service.api['projects.create']({ dir: join(temp, 'project'), name: 'Model assist bench' })
    const dataset = await service.api['datasets.create']({ name: 'komatsuna' })
    const { jobs, project } = service.requireProject()
    await jobs.wait((await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(komatsuna, 'rgb')] })).id)
    await jobs.wait((await service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(komatsuna, 'label') } })).id)
    const measured = new Set(names.map((n) => `rgb_${n}.png`))
    const others = readdirSync(join(komatsuna, 'rgb'))
      .filter((f) => !measured.has(f))
      .sort()
    await service.api['datasets.split']({ datasetId: dataset.id, val: others.filter((_, i) => i % 10 === 0), test: [...measured] })
    const epochs = Number(process.env.LEAFSEG_BENCH_MODEL_EPOCHS ?? 15)
    const config = { ...tinyConfig(epochs, 3e-3), inputSize: 64, baseFilters: 8, depth: 3, batchSize: 8 }
    const started = await service.api['training.start']({ datasetId: dataset.id, name: 'assist bench', config })
    const trained = await jobs.wait(started.job.id)
    if (trained.status !== 'succeeded') throw new Error(`training failed: ${trained.error}`)
    const run = await service.api['runs.get']({ id: started.run.id })
    const { model, predictor, options } = await runPredictor(project, run.id, 'best')
    try {
      const result = await clickSimulation(names, async (name, rgb, box) => {
        const map = await predictPhoto(predictor, rgb, { ...options, photo: name })
        return { box, probabilities: probabilityRaster(map).data, probabilitiesKey: name }
      })
      return {
        ...result,
        run: { epochs: run.epochsDone, best_val_iou: run.bestValIoU, input: config.inputSize, base_filters: config.baseFilters, depth: config.depth }
      }
    } finally {
      model.dispose()
    }
  } finally {
    service.dispose()
  }
}

/** Native OpenCV by the same protocol, on the same photos: its JSON line, or why it did not run. */
function nativeReference(names: string[]): { result?: Record<string, number>; note?: string } {
  if (!existsSync(reference)) return { note: `no reference script at ${reference}` }
  const check = spawnSync('/usr/bin/python3', ['-c', 'import cv2'], { encoding: 'utf8' })
  if (check.status !== 0) return { note: 'python3-opencv is not installed (apt-get install python3-opencv)' }
  // the script pairs IMAGES/NAME.png with MASKS/NAME.png: symlinks without komatsuna's rgb_/label_ prefixes
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-bench-noc-'))
  mkdirSync(join(dir, 'images'))
  mkdirSync(join(dir, 'masks'))
  for (const name of names) {
    symlinkSync(join(komatsuna, 'rgb', `rgb_${name}.png`), join(dir, 'images', `${name}.png`))
    symlinkSync(join(komatsuna, 'label', `label_${name}.png`), join(dir, 'masks', `${name}.png`))
  }
  writeFileSync(join(dir, 'list.txt'), names.join('\n'))
  const run = spawnSync('/usr/bin/python3', [reference, join(dir, 'images'), join(dir, 'masks'), join(dir, 'list.txt'), String(maxClicks)], {
    encoding: 'utf8'
  })
  if (run.status !== 0) return { note: `the reference failed: ${run.stderr.trim().split('\n').pop()}` }
  return { result: JSON.parse(run.stdout.trim().split('\n').pop()!) }
}

const bench: Bench = {
  area: 'assist',
  async run(emit, wanted) {
    const nocNames = ['assist.komatsuna.noc90', 'assist.komatsuna.noc85', 'assist.komatsuna.ms_per_click']
    if (nocNames.some(wanted)) {
      if (!existsSync(join(komatsuna, 'rgb'))) {
        for (const bench of nocNames)
          emit({ bench, value: null, unit: bench.endsWith('ms_per_click') ? 'ms' : 'clicks', note: `no komatsuna data at ${komatsuna}` })
      } else {
        const names = readdirSync(join(komatsuna, 'rgb'))
          .filter((f) => /_00\.png$/.test(f))
          .map((f) => f.replace(/^rgb_/, '').replace(/\.png$/, ''))
          .sort()
        const ours = await clickSimulation(names, async (_name, _rgb, box) => ({ box }))
        const ref = nativeReference(names)
        const native = ref.result
        const common = { engine: 'grabcut', photos: ours.photos, max_clicks: maxClicks }
        emit({
          bench: 'assist.komatsuna.noc90',
          value: Number(ours.noc90.toFixed(2)),
          unit: 'clicks',
          ...common,
          failed: ours.failed90,
          box_iou: Number(ours.boxIoU.toFixed(4)),
          reference_opencv_native: native ? { noc90: native.noc90, failed90: native.failed90, boxIoU: native.boxIoU } : ref.note
        })
        emit({
          bench: 'assist.komatsuna.noc85',
          value: Number(ours.noc85.toFixed(2)),
          unit: 'clicks',
          ...common,
          reference_opencv_native: native ? { noc85: native.noc85 } : ref.note
        })
        emit({
          bench: 'assist.komatsuna.ms_per_click',
          value: Number(ours.msMedian.toFixed(1)),
          unit: 'ms',
          stat: 'median per interaction (box or click), opencv-wasm GrabCut',
          mean_ms: Number(ours.msMean.toFixed(1)),
          ...common,
          reference_opencv_native_ms: native ? native.sPerInteraction * 1000 : ref.note,
          ratio_to_native: native ? Number((ours.msMedian / (native.sPerInteraction * 1000)).toFixed(2)) : null
        })
        if (process.env.LEAFSEG_BENCH_MODEL_ASSIST !== '1') {
          emit({
            bench: 'assist.komatsuna.noc90',
            value: null,
            unit: 'clicks',
            engine: 'model',
            note: 'not measured: set LEAFSEG_BENCH_MODEL_ASSIST=1 to train a run on the other 250 photos first'
          })
        } else {
          const model = await modelNoc(names)
          const extra = { engine: 'model', photos: model.photos, max_clicks: maxClicks, run: model.run }
          emit({
            bench: 'assist.komatsuna.noc90',
            value: Number(model.noc90.toFixed(2)),
            unit: 'clicks',
            ...extra,
            failed: model.failed90,
            box_iou: Number(model.boxIoU.toFixed(4))
          })
          emit({ bench: 'assist.komatsuna.noc85', value: Number(model.noc85.toFixed(2)), unit: 'clicks', ...extra })
        }
      }
    }
  }
}

export default bench
