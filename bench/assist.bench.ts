// The box-and-click assist, by the standard click simulation of interactive segmentation (Xu et al. 2016):
// start from the truth's box enlarged by 5 % a side; after each proposal the next click goes to the point
// farthest from the border of the larger error region (a missed leaf: positive; a false one: negative), at most
// 20 clicks. NoC@90 / NoC@85: clicks until IoU reaches 0.90 / 0.85 (0 if the box alone does, 20 if never).
// On the 50 komatsuna photos whose names end in _00; native OpenCV's GrabCut by the same protocol
// (/work/shared/reference/grabcut_noc.py) runs beside it when python3-opencv is installed.
//   assist.komatsuna.noc90, .noc85 (engine: grabcut), assist.komatsuna.ms_per_click
// The model assist (labels.assist with a run) on komatsuna's 60 validation photos, its run trained as a lab would
// (see modelAssist), through the web host over HTTP:
//   assist.komatsuna.model.noc90, .noc85, assist.komatsuna.model.ms (median answer to a click),
//   assist.large.model.ms (the same on 500×530 photos)
// LEAFSEG_BENCH_ASSIST_EPOCHS: the run's epochs (default the fast-cpu preset's 40, about an hour on 2 cores);
// LEAFSEG_BENCH_ASSIST_PROJECT: keep the project there and measure its run again; LEAFSEG_KOMATSUNA: the data.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync, spawnSync } from 'node:child_process'
import { callHost } from './host-call'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import type { Bench } from './types'
import { readRaster } from '../src/main/core/imaging/raster'
import { opencv } from '../src/main/core/imaging/opencv'
import { GrabCutAssist, type AssistStart } from '../src/main/core/labelling/grabcut'
import { LeafsegService } from '../src/main/core/service/service'
import { forkJobProcess } from '../src/node-host/job-process'
import { startWebHost, type WebHost } from '../src/web/server'
import { decodeRle, type Rle } from '../src/shared/rle'
import type { AssistBox, AssistClick } from '../src/shared/api/labelling'
import type { Raster } from '../src/main/core/imaging/raster'
import { iou, protocolBox } from '../tests/helpers/leaf-photo'

// LEAFSEG_KOMATSUNA: the data elsewhere (a git worktree has no ../shared beside it).
const komatsuna = process.env.LEAFSEG_KOMATSUNA ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'komatsuna')
const cli = join(import.meta.dirname, '..', 'bin', 'leafseg.js')
const reference = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'grabcut_noc.py')
const maxClicks = 20

/** The command line as a lab runs it, with --json: its answer. */
function leafseg(...args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }))
}

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN
}

/** A photo the model assist is measured on: its id in the project, and the truth from komatsuna's label image. */
interface Measured {
  id: number
  truth: Uint8Array
  width: number
  height: number
}

/**
 * The click simulation over HTTP with a run (`labels.assist` with `runId`, from the truth's box): each photo's first
 * answer predicts the photo with the run (a short job, kept), the clicks then correct the proposal. `maxClicksHere`
 * caps the clicks (timing only); `untilIoU` stops early as the protocol does.
 */
async function httpSimulation(host: WebHost, photos: Measured[], runId: number, maxClicksHere = maxClicks, untilIoU = 0.9) {
  const n85: number[] = []
  const n90: number[] = []
  const box: number[] = []
  const firstMs: number[] = []
  const clickMs: number[] = []
  for (const photo of photos) {
    const { truth, width, height } = photo
    const clicks: AssistClick[] = []
    const ask = async () => {
      const { answer, ms } = await callHost(host, 'labels.assist', { photoId: photo.id, runId, box: protocolBox(truth, width, height), clicks })
      if (!answer.ok) throw new Error(`labels.assist: ${answer.error?.message}`)
      return { pred: decodeRle(answer.value.mask as Rle), ms }
    }
    let { pred, ms } = await ask()
    firstMs.push(ms)
    const ious = [iou(truth, pred)]
    while (clicks.length < maxClicksHere && ious[ious.length - 1] < untilIoU) {
      clicks.push(nextClick(truth, pred, width, height))
      ;({ pred, ms } = await ask())
      clickMs.push(ms)
      ious.push(iou(truth, pred))
    }
    n85.push(noc(ious, 0.85))
    n90.push(noc(ious, 0.9))
    box.push(ious[0])
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
  return {
    photos: photos.length,
    noc85: mean(n85),
    noc90: mean(n90),
    failed90: n90.filter((v) => v >= maxClicks).length,
    boxIoU: mean(box),
    firstMs,
    clickMs
  }
}

async function truthOf(labelFile: string, size?: { width: number; height: number }): Promise<Uint8Array> {
  const label = size
    ? await sharp(labelFile).removeAlpha().resize(size.width, size.height, { kernel: 'nearest', fit: 'fill' }).raw().toBuffer()
    : (await readRaster(labelFile, 3)).data
  const truth = new Uint8Array(label.length / 3)
  for (let i = 0; i < truth.length; i++) truth[i] = label[i * 3] || label[i * 3 + 1] || label[i * 3 + 2] ? 1 : 0
  return truth
}

/**
 * The model assist as a lab would get it, from the command line: import komatsuna, `leafseg split --ratio 80/20/0
 * --seed 1`, `leafseg train --preset fast-cpu` (LEAFSEG_BENCH_ASSIST_EPOCHS epochs, default the preset's 40) on the
 * 240 training photos; then the 60 validation photos, imported again without their masks into a dataset of their
 * own, are labelled with the run through the web host over HTTP, and 3 of them enlarged to 500×530 time a larger
 * photo. LEAFSEG_BENCH_ASSIST_PROJECT keeps the project in that folder and, when it holds a trained run already,
 * measures that run again instead of training another.
 */
async function modelAssist() {
  const temp = mkdtempSync(join(tmpdir(), 'leafseg-bench-model-assist-'))
  const kept = process.env.LEAFSEG_BENCH_ASSIST_PROJECT
  const project = kept ? resolve(kept) : join(temp, 'komatsuna')
  const epochs = process.env.LEAFSEG_BENCH_ASSIST_EPOCHS
  if (epochs !== undefined && !/^[1-9]\d*$/.test(epochs)) throw new Error(`LEAFSEG_BENCH_ASSIST_EPOCHS must be a whole number of epochs, not “${epochs}”.`)
  let trained: { id: number; seconds: number } | null = null
  if (!existsSync(join(project, 'leafseg.sqlite'))) {
    leafseg('project', 'create', project, '--name', 'Model assist bench')
    leafseg('import', join(komatsuna, 'rgb'), '--project', project, '--dataset', 'komatsuna', '--masks', join(komatsuna, 'label'))
    leafseg('split', '--project', project, '--dataset', 'komatsuna', '--ratio', '80/20/0', '--seed', '1')
    const out = leafseg('train', '--project', project, '--dataset', 'komatsuna', '--preset', 'fast-cpu', ...(epochs ? ['--epochs', epochs] : [])) as {
      run: { id: number; seconds: number }
    }
    trained = out.run
  }
  const service = new LeafsegService({ host: 'web', userDataDir: temp, jobProcess: forkJobProcess, typedPathsAreChoices: true })
  const host = await startWebHost({ service, staticDir: temp })
  try {
    const api = service.api
    await api['projects.open']({ dir: project })
    const { jobs } = service.requireProject()
    const runs = await api['runs.list']({})
    const run = trained
      ? await api['runs.get']({ id: trained.id })
      : runs.find((r) => r.status === 'completed' && r.config.preset === 'fast-cpu' && r.datasetName === 'komatsuna')
    if (!run) throw new Error(`${project} holds no finished fast-cpu run on komatsuna: remove the folder to train one.`)
    const datasets = await api['datasets.list']({})
    const source = datasets.find((d) => d.name === 'komatsuna')
    if (!source) throw new Error(`${project} has no dataset named komatsuna.`)
    const { photos: validation } = await api['datasets.photos']({ datasetId: source.id, offset: 0, limit: 1000, filter: { split: 'val' }, sort: 'name' })
    // the validation photos again, without their masks: the assist starts from the run alone, as on a new photo
    const heldOut = async (name: string, files: string[]) => {
      const existing = datasets.find((d) => d.name === name)
      const dataset = existing ?? (await api['datasets.create']({ name }))
      if (!existing) await jobs.wait((await api['datasets.importPhotos']({ datasetId: dataset.id, paths: files })).id)
      return (await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 1000, filter: {}, sort: 'name' })).photos
    }
    const measured: Measured[] = []
    for (const p of await heldOut(
      'held-out',
      validation.map((v) => join(komatsuna, 'rgb', v.name))
    )) {
      measured.push({ id: p.id, width: p.width, height: p.height, truth: await truthOf(join(komatsuna, 'label', p.name.replace(/^rgb_/, 'label_'))) })
    }
    // 3 validation photos enlarged to 500×530 (the size the 451 ms were measured on)
    const large = { width: 500, height: 530 }
    const largeDir = join(temp, 'large')
    mkdirSync(largeDir)
    const chosen = validation.slice(0, 3)
    for (const v of chosen)
      await sharp(join(komatsuna, 'rgb', v.name))
        .removeAlpha()
        .resize(large.width, large.height, { fit: 'fill' })
        .png()
        .toFile(join(largeDir, v.name))
    const largeMeasured: Measured[] = []
    for (const p of await heldOut(
      'held-out 500x530',
      chosen.map((v) => join(largeDir, v.name))
    )) {
      largeMeasured.push({ id: p.id, ...large, truth: await truthOf(join(komatsuna, 'label', p.name.replace(/^rgb_/, 'label_')), large) })
    }
    const result = await httpSimulation(host, measured, run.id)
    // timing on the large photos: the box and 10 clicks each, whatever the IoU
    const timing = await httpSimulation(host, largeMeasured, run.id, 10, 2)
    return {
      ...result,
      large: { photos: largeMeasured.length, firstMs: timing.firstMs, clickMs: timing.clickMs },
      run: {
        id: run.id,
        preset: run.config.preset,
        epochs: run.epochsDone,
        best_val_iou: run.bestValIoU === null ? null : Number(run.bestValIoU.toFixed(4)),
        train_s: Math.round(run.seconds),
        backend: `${run.backend}: ${run.device}`
      }
    }
  } finally {
    await host.close()
    service.dispose()
    if (!kept) rmSync(temp, { recursive: true, force: true })
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
      }
    }
    const modelNames = ['assist.komatsuna.model.noc90', 'assist.komatsuna.model.noc85', 'assist.komatsuna.model.ms', 'assist.large.model.ms']
    if (modelNames.some(wanted)) {
      if (!existsSync(join(komatsuna, 'rgb'))) {
        for (const bench of modelNames) emit({ bench, value: null, unit: bench.endsWith('ms') ? 'ms' : 'clicks', note: `no komatsuna data at ${komatsuna}` })
        return
      }
      const model = await modelAssist()
      const extra = { engine: 'model', photos: model.photos, max_clicks: maxClicks, run: model.run }
      const ms = (v: number) => Number(v.toFixed(1))
      emit({
        bench: 'assist.komatsuna.model.noc90',
        value: Number(model.noc90.toFixed(2)),
        unit: 'clicks',
        ...extra,
        failed: model.failed90,
        box_iou: Number(model.boxIoU.toFixed(4))
      })
      emit({ bench: 'assist.komatsuna.model.noc85', value: Number(model.noc85.toFixed(2)), unit: 'clicks', ...extra })
      emit({
        bench: 'assist.komatsuna.model.ms',
        value: ms(median(model.clickMs)),
        unit: 'ms',
        stat: 'median answer to a click over HTTP (labels.assist with runId), komatsuna size',
        answers: model.clickMs.length,
        first_answer_ms: ms(median(model.firstMs)),
        first_answer_note: "each photo's first answer, the run's prediction of it made then (a job) and kept",
        ...extra
      })
      emit({
        bench: 'assist.large.model.ms',
        value: ms(median(model.large.clickMs)),
        unit: 'ms',
        stat: 'median answer to a click over HTTP (labels.assist with runId), 500×530 photos, the box and 10 clicks each',
        answers: model.large.clickMs.length,
        first_answer_ms: ms(median(model.large.firstMs)),
        photos: model.large.photos,
        run: model.run
      })
    }
  }
}

export default bench
