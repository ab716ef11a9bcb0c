// Prediction per engine: the Fast CPU U-Net's batch time and tiled 2048×1536 prediction on onnxruntime (the tfjs
// backends' figures of the same names come from ml.bench.ts and eval.bench.ts), the whole folder pipeline
// (decode, tile, predict, mask, traits, CSV), and PyTorch on the same network for reference.
// LEAFSEG_BENCH_FOLDER_N sets the folder's photo count (default 1000: slow on a small machine; 20 for a quick run).
import { mkdirSync, mkdtempSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import sharp from 'sharp'
import type { Bench } from './types'
import { timeTiledPrediction } from './eval.bench'

const SIZE = '2048x1536'
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** The Fast CPU U-Net (untrained: the time is the same) saved as a model folder, with its training facts. */
async function fastCpuModelDir(): Promise<string> {
  const { initBackend } = await import('../src/main/core/model/backend')
  const { buildUnet } = await import('../src/main/core/model/unet')
  const { UNET_PRESETS } = await import('../src/main/core/model/unet-size')
  const { saveModelFiles } = await import('../src/main/core/model/model-io')
  await initBackend()
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-bench-onnx-'))
  const model = buildUnet(UNET_PRESETS['fast-cpu'])
  await saveModelFiles(model, dir, { ...UNET_PRESETS['fast-cpu'], sampling: { mode: 'crops', scale: 1 }, loss: 'bce+dice', epoch: 1, validationIoU: 0 })
  model.dispose()
  return dir
}

/** A photo-like 2048×1536 JPEG: smooth leaves of colour on a darker ground, some texture. */
async function writePhoto(file: string, seed: number): Promise<void> {
  const [w, h] = [2048, 1536]
  const data = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const leaf = Math.sin((x + seed * 97) / 140) * Math.cos((y - seed * 61) / 110) > 0.25
      const noise = ((x * 7919 + y * 104729 + seed) % 23) - 11
      const o = (y * w + x) * 3
      data[o] = (leaf ? 60 : 110) + noise
      data[o + 1] = (leaf ? 150 : 90) + noise
      data[o + 2] = (leaf ? 45 : 70) + noise
    }
  await sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file)
}

/** PyTorch's inference time for a batch of 8 tiles of the same network (the shared reference script), or null without it. */
function pytorchBatchMs(threads: number): number | null {
  const script = join(import.meta.dirname, '../../shared/reference/unet_torch.py')
  const run = spawnSync('/usr/bin/python3', [script, '16', '128', '8', '5', String(threads)], { encoding: 'utf8', timeout: 600_000 })
  if (run.status !== 0) return null
  return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { inferMedianMs: number }).inferMedianMs
}

const bench: Bench = {
  area: 'engines',
  async run(emit, wanted) {
    const figures = ['predict.fast-cpu.batch_ms', `predict.tiled_${SIZE}.images_per_s`, 'predict.folder_1000.images_per_s', 'predict.fast-cpu.pytorch_batch_ms']
    if (!figures.some(wanted)) return
    const { chooseEngine, loadInferenceModel } = await import('../src/main/core/model/inference')
    const { onnxThreads } = await import('../src/main/core/model/onnx-engine')
    if (chooseEngine().name !== 'onnxruntime') {
      emit({ bench: 'predict.fast-cpu.batch_ms', value: null, unit: 'ms', engine: 'onnxruntime', note: chooseEngine().reason })
      return
    }
    const dir = await fastCpuModelDir()
    const model = await loadInferenceModel(dir, 'onnxruntime')
    const threadsBefore = process.env.LEAFSEG_ONNX_THREADS
    const threads = onnxThreads()
    let tiledMs: number | null = null
    try {
      if (wanted('predict.fast-cpu.batch_ms')) {
        // On 1 thread and on every core, each beside PyTorch on as many threads, run at the same moment (a shared
        // machine's load changes from minute to minute).
        const tiles = new Float32Array(8 * 128 * 128 * 3).map((_, i) => ((i * 2654435761) >>> 24) / 255)
        for (const n of [...new Set([1, threads])]) {
          process.env.LEAFSEG_ONNX_THREADS = String(n)
          const session = await loadInferenceModel(dir, 'onnxruntime')
          await session.predictBatch(tiles, 8)
          const times: number[] = []
          for (let i = 0; i < 7; i++) {
            const start = performance.now()
            await session.predictBatch(tiles, 8)
            times.push(performance.now() - start)
          }
          session.dispose()
          const ms = median(times)
          const torch = pytorchBatchMs(n)
          emit({
            bench: 'predict.fast-cpu.batch_ms',
            value: Number(ms.toFixed(1)),
            unit: 'ms',
            engine: 'onnxruntime',
            device: session.engine,
            threads: n,
            batch: 8,
            best_ms: Number(Math.min(...times).toFixed(1)),
            pytorch_ms: torch,
            vs_pytorch: torch === null ? null : Number((ms / torch).toFixed(2))
          })
        }
        if (threadsBefore === undefined) delete process.env.LEAFSEG_ONNX_THREADS
        else process.env.LEAFSEG_ONNX_THREADS = threadsBefore
      }
      if (wanted(`predict.tiled_${SIZE}.images_per_s`) || wanted('predict.folder_1000.images_per_s')) {
        const { fullResolution } = await import('../src/main/core/model/tiling')
        const photo = { width: 2048, height: 1536, channels: 3 as const, data: new Uint8Array(2048 * 1536 * 3).map((_, i) => (i * 2654435761) >>> 24) }
        const { ms, cpuMs } = await timeTiledPrediction(fullResolution(model).predictor, photo, 2)
        tiledMs = ms
        emit({
          bench: `predict.tiled_${SIZE}.images_per_s`,
          value: Number((1000 / ms).toFixed(3)),
          unit: 'images/s',
          engine: 'onnxruntime',
          device: model.engine,
          threads,
          ms_per_image: Math.round(ms),
          cpu_ms: Math.round(cpuMs),
          note: 'Fast CPU preset (128 px input), overlap 0.25, batch 8'
        })
      }
    } finally {
      model.dispose()
    }
    if (wanted('predict.folder_1000.images_per_s')) {
      const count = Number(process.env.LEAFSEG_BENCH_FOLDER_N ?? 1000)
      const work = mkdtempSync(join(tmpdir(), 'leafseg-bench-folder-'))
      const images = join(work, 'photos')
      mkdirSync(images)
      // Four different photos, copied to make the folder (their content does not change the time).
      for (let k = 0; k < Math.min(4, count); k++) await writePhoto(join(images, `photo${String(k).padStart(4, '0')}.jpg`), k)
      for (let k = 4; k < count; k++)
        copyFileSync(join(images, `photo${String(k % 4).padStart(4, '0')}.jpg`), join(images, `photo${String(k).padStart(4, '0')}.jpg`))
      const { predictWithModelFolder } = await import('../src/main/core/prediction/model-folder')
      const start = performance.now()
      const result = await predictWithModelFolder(
        { model: dir, images, out: join(work, 'out'), csv: join(work, 'areas.csv'), threshold: 0.5, measure: { minLeafAreaPx: 50, pxPerMm: null } },
        () => {}
      )
      const ms = (performance.now() - start) / count
      emit({
        bench: 'predict.folder_1000.images_per_s',
        value: Number((1000 / ms).toFixed(3)),
        unit: 'images/s',
        engine: 'onnxruntime',
        device: result.engine,
        photos: count,
        ms_per_image: Math.round(ms),
        vs_inference_alone: tiledMs === null ? null : Number((ms / tiledMs).toFixed(2)),
        note: '2048×1536 JPEGs: decode, tile, predict, probability → mask PNG, measurements and traits, CSV'
      })
    }
    if (wanted('predict.fast-cpu.pytorch_batch_ms')) {
      for (const n of [1, 2])
        emit({
          bench: 'predict.fast-cpu.pytorch_batch_ms',
          value: pytorchBatchMs(n),
          unit: 'ms',
          threads: n,
          note: 'reference: /work/shared/reference/unet_torch.py 16 128 8 5 (inference median)'
        })
    }
  }
}

export default bench
