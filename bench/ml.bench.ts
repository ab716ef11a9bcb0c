// ML figures per backend: training step and prediction times for the presets, and the data pipeline's rate.
// `node --import tsx bench/run.ts ml` (LEAFSEG_BENCH_CPU=1 also times the pure-JS cpu backend: minutes per step;
// on wasm, the Fast CPU network is timed at
// 128² and 256² (train.fast-cpu-256) with 1 worker and with as many as the machine has cores (at most the
// batch of 8): `npm run bench -- train.fast-cpu`. WebGPU through Dawn is timed too (LEAFSEG_BENCH_NO_WEBGPU=1
// skips it), and the GPU worker page (WebGL2) in headless Chromium (LEAFSEG_BENCH_NO_GPU_WORKER=1 skips it); on
// a software adapter or renderer (SwiftShader) their lines say device: 'software'.
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench, Emit } from './types'
import { tf, type BackendName } from '../src/main/core/model/backend'
import { openEngine, type OpenEngine } from '../src/main/core/model/engine-choice'
import { setGpuWorkerConnector } from '../src/main/core/model/gpu-connector'
import { UNET_PRESETS, type UnetConfig, type UnetPreset } from '../src/main/core/model/unet-size'
import { checkTrainingFits } from '../src/main/core/model/fit'
import { DEFAULT_AUGMENT, loadExample, mixSeed } from '../src/main/core/training/data'
import { seededRandom } from '../src/shared/random'
import { makePhotos } from '../tests/training/fixtures'
import { browserMissing } from '../tests/helpers/browser'
import { rendererDir } from '../tests/helpers/webhost'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Fields every line of an engine carries: its backend and device, and on a GPU its adapter's fields or renderer. */
function engineFields({ info }: OpenEngine): Record<string, unknown> {
  if (!info.gpu) return { backend: info.backend, device: info.device, workers: info.workers ?? 1 }
  const a = info.gpu.adapter
  const names = a ? { vendor: a.vendor, architecture: a.architecture, description: a.description } : { renderer: info.gpu.renderer }
  return { backend: info.backend, ...names, device: info.gpu.software ? 'software' : 'gpu' }
}

/** The Fast CPU network at 256² (the resolution that measured better than 128² but costs four times the pixels). */
const FAST_CPU_256: UnetConfig = { ...UNET_PRESETS['fast-cpu'], inputSize: 256 }

function randomBatch(config: UnetConfig, batch: number): { x: Float32Array; y: Float32Array } {
  const { inputSize: s } = config
  const random = seededRandom(batch)
  return { x: new Float32Array(batch * s * s * 3).map(() => random()), y: new Float32Array(batch * s * s).map(() => (random() < 0.3 ? 1 : 0)) }
}

/** Median time of a training step (Adam, bce+dice) on the engine; a batch that does not fit is retried at the largest that does. */
async function trainStep(emit: Emit, opened: OpenEngine, preset: UnetPreset | 'fast-cpu-256', batch: number, steps: number): Promise<void> {
  const name = `train.${preset}.step_ms`
  const config = preset === 'fast-cpu-256' ? FAST_CPU_256 : UNET_PRESETS[preset]
  const { info, engine } = opened
  const fit = checkTrainingFits(config, batch, info.backend, info.gpu, info.workers)
  if (!fit.fits) {
    emit({ bench: name, value: null, unit: 'ms', ...engineFields(opened), batch, note: `does not fit: ${fit.message}` })
    if (fit.largestBatch > 0) await trainStep(emit, opened, preset, fit.largestBatch, steps)
    return
  }
  await engine.build({ network: { kind: 'unet', size: config, seed: 1 }, loss: 'bce+dice', learningRate: 1e-3 })
  const { x, y } = randomBatch(config, batch)
  // Wall time and this process's CPU time (the latter is less distorted when other processes share the cores).
  const cpuTimes: number[] = []
  const step = async () => {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    await engine.trainStep(x, y, batch)
    const c = process.cpuUsage(c0)
    cpuTimes.push((c.user + c.system) / 1000)
    return performance.now() - t0
  }
  await step() // warm-up: creates the optimizer's moments, XNNPACK operators, WebGL shaders
  cpuTimes.length = 0
  const times: number[] = []
  for (let i = 0; i < steps; i++) times.push(await step())
  const local = !info.gpu
  const heapBytes =
    info.backend === 'wasm' && !info.workers ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength : undefined
  emit({
    bench: name,
    value: Math.round(median(times)),
    unit: 'ms',
    ...engineFields(opened),
    batch,
    steps,
    cpu_ms: local ? Math.round(median(cpuTimes)) : undefined,
    wasm_heap_mib: heapBytes && Math.round(heapBytes / 2 ** 20),
    estimate_mib: local ? Math.round(fit.bytes / 2 ** 20) : undefined,
    transport: info.backend === 'webgl' ? "test bridge (Playwright, base64): the app's MessagePort copies less" : undefined
  })
  await engine.dispose()
}

async function predictBatch(emit: Emit, opened: OpenEngine, preset: UnetPreset, batch: number): Promise<void> {
  const { engine } = opened
  await engine.build({ network: { kind: 'unet', size: UNET_PRESETS[preset], seed: 1 }, loss: 'bce', learningRate: 0 })
  const { x } = randomBatch(UNET_PRESETS[preset], batch)
  const run = async () => {
    const t0 = performance.now()
    await engine.predict(x, batch)
    return performance.now() - t0
  }
  await run()
  emit({ bench: `predict.${preset}.batch_ms`, value: Math.round(median([await run(), await run(), await run()])), unit: 'ms', ...engineFields(opened), batch })
  await engine.dispose()
}

/** The figures of a GPU engine (WebGPU through Dawn, or the GPU worker page); a software one is timed, and says so. */
async function gpuFigures(emit: Emit, wanted: (figure: string) => boolean, opened: OpenEngine): Promise<void> {
  const software = opened.info.gpu!.software
  emit({
    bench: 'ml.backend',
    value: null,
    unit: '',
    ...engineFields(opened),
    note: software ? `a software ${opened.info.backend === 'webgpu' ? 'adapter' : 'renderer'}: these are CPU figures through it, not GPU figures` : undefined
  })
  // SwiftShader's WebGPU takes over a minute a Fast CPU step at batch 2 on 2 cores: one image, one timed step.
  if (wanted('train.fast-cpu.step_ms')) await trainStep(emit, opened, 'fast-cpu', software ? 1 : 8, software ? 1 : 3)
  if (wanted('predict.fast-cpu.batch_ms')) await predictBatch(emit, opened, 'fast-cpu', software ? 1 : 8)
  if (wanted('train.seed.step_ms')) {
    if (software)
      emit({ bench: 'train.seed.step_ms', value: null, unit: 'ms', ...engineFields(opened), note: 'skipped: a software GPU (minutes a step; not a GPU)' })
    else await trainStep(emit, opened, 'seed', 8, 3)
  }
}

/** WebGPU through Dawn in a thread of this process, as every host trains on it. */
async function webGpuFigures(emit: Emit, wanted: (figure: string) => boolean): Promise<void> {
  let opened: OpenEngine
  try {
    opened = await openEngine('webgpu')
  } catch (err) {
    const hint = 'without a GPU driver, VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json gives Dawn SwiftShader (software)'
    emit({ bench: 'ml.backend', value: null, unit: '', backend: 'webgpu', note: `not available: ${(err as Error).message} (${hint})` })
    return
  }
  try {
    await gpuFigures(emit, wanted, opened)
  } finally {
    await opened.close()
  }
}

/** The GPU worker page (WebGL2) in headless Chromium, when Chromium and the built page are here. */
async function gpuWorkerFigures(emit: Emit, wanted: (figure: string) => boolean): Promise<void> {
  const missing = browserMissing() ?? (existsSync(join(rendererDir, 'gpu-worker.html')) ? null : 'the GPU worker page is not built (npx electron-vite build)')
  if (missing) {
    emit({ bench: 'ml.backend', value: null, unit: '', backend: 'webgl', note: `not available: ${missing}` })
    return
  }
  const { openGpuWorkerPage } = await import('../tests/helpers/gpu-worker')
  const page = await openGpuWorkerPage()
  setGpuWorkerConnector(() => page.connect())
  try {
    const opened = await openEngine('webgl')
    await gpuFigures(emit, wanted, opened)
    await opened.close()
  } finally {
    setGpuWorkerConnector(null)
    await page.close()
  }
}

async function pipeline(emit: Emit): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'leafseg-bench-ml-'))
  try {
    const photos = await makePhotos(dir, 8, { width: 1024, height: 768, format: 'jpg' })
    const load = (i: number) => loadExample(photos[i % photos.length], 256, DEFAULT_AUGMENT, seededRandom(mixSeed(1, i)))
    await Promise.all(photos.map((_, i) => load(i)))
    const images = 64
    const t0 = performance.now()
    for (let i = 0; i < images; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => load(i + k))) // as the loader does: a batch at a time
    const seconds = (performance.now() - t0) / 1000
    emit({
      bench: 'pipeline.images_per_s',
      value: Math.round((images / seconds) * 10) / 10,
      unit: 'images/s',
      size: 256,
      source: '1024x768 JPEG',
      augment: 'all'
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const bench: Bench = {
  area: 'ml',
  async run(emit, figureWanted) {
    // `bench/run.ts ml` names the area, not a figure: then every figure is wanted.
    const wanted = (figure: string) => figureWanted('ml') || figureWanted(figure)
    const backends: BackendName[] = ['tensorflow', 'wasm', 'cpu']
    // wasm: 1 worker (this thread) and as many workers as there are cores, at most the batch of 8.
    const workerCounts = (backend: BackendName) => (backend === 'wasm' ? [...new Set([1, Math.min(availableParallelism(), 8)])] : [1])
    for (const backend of backends) {
      const wantedHere = ['train.fast-cpu.step_ms', 'train.fast-cpu-256.step_ms', 'train.seed.step_ms', 'predict.fast-cpu.batch_ms'].filter(wanted)
      if (wantedHere.length === 0) break
      for (const workers of workerCounts(backend)) {
        let opened: OpenEngine
        try {
          opened = await openEngine(backend, { workers })
        } catch (err) {
          emit({ bench: 'ml.backend', value: null, unit: '', backend, note: `not available: ${(err as Error).message}` })
          break
        }
        if (backend === 'cpu' && !process.env.LEAFSEG_BENCH_CPU) {
          await opened.close()
          for (const figure of wantedHere)
            emit({ bench: figure, value: null, unit: 'ms', backend, note: 'skipped: the cpu backend takes minutes per step (LEAFSEG_BENCH_CPU=1 to time it)' })
          break
        }
        emit({ bench: 'ml.backend', value: null, unit: '', ...engineFields(opened) })
        if (wanted('train.fast-cpu.step_ms')) await trainStep(emit, opened, 'fast-cpu', 8, 3)
        if (wanted('train.fast-cpu-256.step_ms') && backend !== 'cpu') await trainStep(emit, opened, 'fast-cpu-256', 8, 3)
        if (wanted('predict.fast-cpu.batch_ms')) await predictBatch(emit, opened, 'fast-cpu', 8)
        if (wanted('train.seed.step_ms') && workers === 1) await trainStep(emit, opened, 'seed', 4, 1)
        await opened.close()
      }
    }
    const onGpu = ['train.fast-cpu.step_ms', 'train.seed.step_ms', 'predict.fast-cpu.batch_ms'].some(wanted)
    if (onGpu && !process.env.LEAFSEG_BENCH_NO_WEBGPU) await webGpuFigures(emit, wanted)
    if (onGpu && !process.env.LEAFSEG_BENCH_NO_GPU_WORKER) await gpuWorkerFigures(emit, wanted)
    if (wanted('pipeline.images_per_s')) await pipeline(emit)
  }
}
export default bench
