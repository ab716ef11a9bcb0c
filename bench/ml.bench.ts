// ML figures per backend: training step and prediction times for the presets, and the data pipeline's rate.
// `node --import tsx bench/run.ts ml` (LEAFSEG_BENCH_CPU=1 also times the pure-JS cpu backend: minutes per step;
// LEAFSEG_WASM_THREADS=N runs the wasm backend with N XNNPACK threads).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench, Emit } from './types'
import { initBackend, tf, type BackendName } from '../src/main/core/model/backend'
import { buildUnet, lossFunction } from '../src/main/core/model/unet'
import { UNET_PRESETS, type UnetPreset } from '../src/main/core/model/unet-size'
import { checkTrainingFits } from '../src/main/core/model/fit'
import { DEFAULT_AUGMENT, loadExample, mixSeed } from '../src/main/core/training/data'
import { seededRandom } from '../src/main/core/random'
import { makePhotos } from '../tests/training/fixtures'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function trainStep(emit: Emit, backend: BackendName, device: string, preset: UnetPreset, batch: number, steps: number): Promise<void> {
  const name = `train.${preset}.step_ms`
  const config = UNET_PRESETS[preset]
  const fit = checkTrainingFits(config, batch, backend)
  if (!fit.fits) {
    emit({ bench: name, value: null, unit: 'ms', backend, device, batch, note: `does not fit: ${fit.message}` })
    if (fit.largestBatch > 0) await trainStep(emit, backend, device, preset, fit.largestBatch, steps)
    return
  }
  const model = buildUnet(config)
  const optimizer = tf.train.adam(1e-3)
  const loss = lossFunction('bce+dice')
  const x = tf.randomUniform([batch, config.inputSize, config.inputSize, 3])
  const y = tf.randomUniform([batch, config.inputSize, config.inputSize, 1]).round()
  // Wall time and this process's CPU time (the latter is less distorted when other processes share the cores).
  const cpuTimes: number[] = []
  const step = () => {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    optimizer.minimize(() => loss(y, model.apply(x, { training: true }) as tf.Tensor), true)!.dispose()
    const c = process.cpuUsage(c0)
    cpuTimes.push((c.user + c.system) / 1000)
    return performance.now() - t0
  }
  step() // warm-up: creates the optimizer's moments and XNNPACK operators
  cpuTimes.length = 0
  const times = Array.from({ length: steps }, step)
  const heapBytes = backend === 'wasm' ? ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength) : undefined
  emit({ bench: name, value: Math.round(median(times)), unit: 'ms', backend, device, batch, steps, cpu_ms: Math.round(median(cpuTimes)), wasm_heap_mib: heapBytes && Math.round(heapBytes / 2 ** 20), estimate_mib: Math.round(fit.bytes / 2 ** 20) })
  tf.dispose([x, y])
  model.dispose()
  optimizer.dispose()
}

async function predictBatch(emit: Emit, backend: BackendName, device: string, preset: UnetPreset, batch: number): Promise<void> {
  const config = UNET_PRESETS[preset]
  const model = buildUnet(config)
  const x = tf.randomUniform([batch, config.inputSize, config.inputSize, 3])
  const run = () => {
    const t0 = performance.now()
    const p = model.predict(x) as tf.Tensor
    p.dataSync()
    p.dispose()
    return performance.now() - t0
  }
  run()
  emit({ bench: `predict.${preset}.batch_ms`, value: Math.round(median([run(), run(), run()])), unit: 'ms', backend, device, batch })
  x.dispose()
  model.dispose()
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
    emit({ bench: 'pipeline.images_per_s', value: Math.round((images / seconds) * 10) / 10, unit: 'images/s', size: 256, source: '1024x768 JPEG', augment: 'all' })
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
    for (const backend of backends) {
      const wantedHere = ['train.fast-cpu.step_ms', 'train.seed.step_ms', 'predict.fast-cpu.batch_ms'].filter(wanted)
      if (wantedHere.length === 0) break
      let info
      try {
        info = await initBackend({ force: backend, wasmThreads: Number(process.env.LEAFSEG_WASM_THREADS ?? 1) })
      } catch (err) {
        emit({ bench: 'ml.backend', value: null, unit: '', backend, note: `not available: ${(err as Error).message}` })
        continue
      }
      if (backend === 'cpu' && !process.env.LEAFSEG_BENCH_CPU) {
        for (const figure of wantedHere) emit({ bench: figure, value: null, unit: 'ms', backend, note: 'skipped: the cpu backend takes minutes per step (LEAFSEG_BENCH_CPU=1 to time it)' })
        continue
      }
      emit({ bench: 'ml.backend', value: null, unit: '', backend, device: info.device })
      if (wanted('train.fast-cpu.step_ms')) await trainStep(emit, backend, info.device, 'fast-cpu', 8, 3)
      if (wanted('predict.fast-cpu.batch_ms')) await predictBatch(emit, backend, info.device, 'fast-cpu', 8)
      if (wanted('train.seed.step_ms')) await trainStep(emit, backend, info.device, 'seed', 4, 1)
    }
    if (wanted('pipeline.images_per_s')) await pipeline(emit)
  }
}
export default bench
