// Evaluation figures: what tiling, scoring and measuring cost on a 2048×1536 photo, without a model.
// `tiling.*` keeps the name the plan gave it, so run all of them with `node --import tsx bench/run.ts eval tiling`.
// The model's own time belongs to the U-Net's bench; to time real tiled prediction, pass its predictor to
// timeTiledPrediction below and emit `predict.tiled_2048x1536.images_per_s` = 1000 / ms.
// Figures carry cpu_ms (this process's CPU time) beside the wall time, which is noisy on a shared machine.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench, Emit } from './types'
import { predictPhoto, type Predictor } from '../src/main/core/model/tiling'
import { ThresholdSweep, probabilityHistogram } from '../src/main/core/evaluation/metrics'
import { measureLeaves } from '../src/main/core/prediction/measure'
import type { Raster } from '../src/main/core/imaging/raster'

const WIDTH = 2048
const HEIGHT = 1536

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Median wall time and median CPU time of this process (steadier on a shared machine), in ms. */
async function timeMs(repeats: number, work: () => unknown): Promise<{ ms: number; cpuMs: number }> {
  await work() // warm-up
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < repeats; i++) {
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    await work()
    const used = process.cpuUsage(cpuStart)
    wall.push(performance.now() - start)
    cpu.push((used.user + used.system) / 1000)
  }
  return { ms: median(wall), cpuMs: median(cpu) }
}

/** A predictor that costs nothing, so the time measured is cutting, copying and blending tiles. */
function instantPredictor(inputSize: number): Predictor {
  const outputs = new Map<number, Float32Array>()
  return {
    inputSize,
    async predictBatch(_rgb, n) {
      if (!outputs.has(n)) outputs.set(n, new Float32Array(n * inputSize * inputSize).fill(0.5))
      return outputs.get(n)!
    }
  }
}

export async function timeTiledPrediction(predictor: Predictor, photo: Raster, repeats = 3): Promise<{ ms: number; cpuMs: number }> {
  return timeMs(repeats, () => predictPhoto(predictor, photo, { overlap: 0.25, batchSize: 8 }))
}

function photo(): Raster {
  const data = new Uint8Array(WIDTH * HEIGHT * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
  return { width: WIDTH, height: HEIGHT, channels: 3, data }
}

function maskAndProbabilities(): { mask: Raster; probabilities: Float32Array } {
  const mask = new Uint8Array(WIDTH * HEIGHT)
  const probabilities = new Float32Array(WIDTH * HEIGHT)
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const v = Math.sin(x / 60) * Math.cos(y / 45)
      mask[y * WIDTH + x] = v > 0.3 ? 255 : 0
      probabilities[y * WIDTH + x] = 1 / (1 + Math.exp(-8 * (v - 0.3)))
    }
  }
  return { mask: { width: WIDTH, height: HEIGHT, channels: 1, data: mask }, probabilities }
}

/** The Fast CPU preset U-Net (untrained weights: the time is the same) as a full-resolution predictor. */
async function fastCpuPredictor(): Promise<{ predictor: Predictor; backend: string; device: string; dispose(): void }> {
  const { initBackend } = await import('../src/main/core/model/backend')
  const { buildUnet } = await import('../src/main/core/model/unet')
  const { UNET_PRESETS } = await import('../src/main/core/model/unet-size')
  const { saveModelFiles } = await import('../src/main/core/model/model-io')
  const { loadModel } = await import('../src/main/core/model/predict')
  const { fullResolution } = await import('../src/main/core/model/tiling')
  const info = await initBackend()
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-bench-model-'))
  const model = buildUnet(UNET_PRESETS['fast-cpu'])
  await saveModelFiles(model, dir)
  model.dispose()
  const loaded = await loadModel(dir)
  return {
    predictor: fullResolution(loaded).predictor,
    backend: info.backend,
    device: info.device,
    dispose: () => loaded.dispose()
  }
}

const bench: Bench = {
  area: 'eval',
  async run(emit: Emit, wanted) {
    const size = `${WIDTH}x${HEIGHT}`
    if (wanted(`predict.tiled_${size}.images_per_s`)) {
      const model = await fastCpuPredictor()
      try {
        const { ms, cpuMs } = await timeTiledPrediction(model.predictor, photo(), 2)
        emit({
          bench: `predict.tiled_${size}.images_per_s`,
          value: Number((1000 / ms).toFixed(3)),
          unit: 'images/s',
          backend: model.backend,
          device: model.device,
          ms_per_image: Math.round(ms),
          cpu_ms: Math.round(cpuMs),
          note: 'Fast CPU preset (128 px input), overlap 0.25, batch 8'
        })
      } finally {
        model.dispose()
      }
    }
    if (wanted(`tiling.${size}.ms_overhead`)) {
      const { ms, cpuMs } = await timeTiledPrediction(instantPredictor(256), photo(), 5)
      emit({
        bench: `tiling.${size}.ms_overhead`,
        value: Math.round(ms),
        unit: 'ms',
        cpu_ms: Math.round(cpuMs),
        note: 'input 256, overlap 0.25, batch 8, instant predictor (88 tiles): cutting + blending only'
      })
    }
    const needsMaps = [`eval.histogram.${size}.ms`, 'eval.rethreshold.1000_photos.ms', `eval.measure.${size}.ms`].some(wanted)
    if (!needsMaps) return
    const { mask, probabilities } = maskAndProbabilities()
    const histogram = probabilityHistogram(probabilities, mask)
    if (wanted(`eval.histogram.${size}.ms`)) {
      const { ms, cpuMs } = await timeMs(5, () => probabilityHistogram(probabilities, mask))
      emit({
        bench: `eval.histogram.${size}.ms`,
        value: Number(ms.toFixed(1)),
        unit: 'ms',
        cpu_ms: Number(cpuMs.toFixed(1)),
        note: 'one pass over a photo; done once per photo'
      })
    }
    if (wanted('eval.rethreshold.1000_photos.ms')) {
      const sweep = new ThresholdSweep(Array.from({ length: 1000 }, () => histogram))
      const { ms, cpuMs } = await timeMs(20, () => sweep.evaluate(0.4))
      emit({
        bench: 'eval.rethreshold.1000_photos.ms',
        value: Number(ms.toFixed(2)),
        unit: 'ms',
        cpu_ms: Number(cpuMs.toFixed(2)),
        note: 'pooled + per-photo scores at a new threshold, from histograms'
      })
    }
    if (wanted(`eval.measure.${size}.ms`)) {
      const { ms, cpuMs } = await timeMs(5, () => measureLeaves(mask, { minLeafAreaPx: 50 }))
      emit({
        bench: `eval.measure.${size}.ms`,
        value: Number(ms.toFixed(1)),
        unit: 'ms',
        cpu_ms: Number(cpuMs.toFixed(1)),
        note: 'connected components with stats (opencv-wasm), incl. copy into wasm'
      })
    }
  }
}

export default bench
