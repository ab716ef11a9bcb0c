// Matting figures: trimap redraw time, closed-form matting time/memory/accuracy on alphamatting lowres.
//   node --import tsx bench/run.ts matting
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Bench } from './types'
import { readRaster } from '../src/main/core/imaging/raster'
import { TrimapMaker } from '../src/main/core/matting/trimap'
import { closedFormMatte } from '../src/main/core/matting/closedForm'
import { mattingErrors } from '../src/main/core/matting/accuracy'

const area = 'matting'
const dataDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data', 'alphamatting-lowres')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const bench: Bench = {
  area,
  async run(emit, wanted) {
    // The runner filters figures by prefix; asking for the area by name gives all of them.
    const want = (figure: string): boolean => wanted(figure) || wanted(area)

    if (want('trimap.1024.ms')) {
      const side = 1024
      const mask = new Uint8Array(side * side)
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const r = Math.hypot(x - side / 2, y - side / 2)
          if (r < side * 0.35 * (1 + 0.1 * Math.sin(Math.atan2(y - side / 2, x - side / 2) * 7))) mask[y * side + x] = 255
        }
      const maker = new TrimapMaker(side, side)
      const out = new Uint8Array(side * side)
      try {
        for (let i = 0; i < 3; i++) maker.make(mask, {}, out)
        const times: number[] = []
        for (let i = 0; i < 15; i++) {
          const t = performance.now()
          maker.make(mask, {}, out)
          times.push(performance.now() - t)
        }
        emit({
          bench: 'trimap.1024.ms',
          value: +median(times).toFixed(2),
          unit: 'ms',
          backend: 'opencv-wasm',
          min: +Math.min(...times).toFixed(2),
          max: +Math.max(...times).toFixed(2),
          runs: times.length,
          note: 'median, k=5 fg=5 bg=5, reused TrimapMaker'
        })
      } finally {
        maker.dispose()
      }
    }

    const figures = ['matte.alphamatting.s_per_image', 'matte.alphamatting.peak_mib', 'matte.alphamatting.sad', 'matte.alphamatting.mse']
    if (!figures.some(want)) return
    if (!existsSync(join(dataDir, 'input_training_lowres'))) {
      for (const figure of figures.filter(want)) emit({ bench: figure, value: null, unit: '', note: `skipped: no data at ${dataDir}` })
      return
    }
    const seconds: number[] = []
    const cpuSeconds: number[] = []
    let sadSum = 0
    let mseSum = 0
    let iterations = 0
    for (let i = 1; i <= 27; i++) {
      const name = `GT${String(i).padStart(2, '0')}.png`
      const photo = await readRaster(join(dataDir, 'input_training_lowres', name), 3)
      const trimap = await readRaster(join(dataDir, 'trimap_training_lowres', 'Trimap1', name), 1)
      const truth = await readRaster(join(dataDir, 'gt_training_lowres', name), 1)
      const cpu = process.cpuUsage()
      const t = performance.now()
      const result = closedFormMatte(photo.data, trimap.data, photo.width, photo.height)
      seconds.push((performance.now() - t) / 1000)
      cpuSeconds.push(process.cpuUsage(cpu).user / 1e6)
      iterations += result.iterations
      const errors = mattingErrors(result.alpha, truth.data, trimap.data)
      sadSum += errors.sad
      mseSum += errors.mse
    }
    const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length
    const meanCpu = cpuSeconds.reduce((a, b) => a + b, 0) / cpuSeconds.length
    const sad = +(sadSum / 27).toFixed(3)
    const mse = +(mseSum / 27).toFixed(3)
    const common = { backend: 'js', images: 27, trimap: 'Trimap1' }
    if (want('matte.alphamatting.s_per_image'))
      emit({
        bench: 'matte.alphamatting.s_per_image',
        value: +mean.toFixed(3),
        unit: 's',
        ...common,
        max: +Math.max(...seconds).toFixed(3),
        cpu_s: +meanCpu.toFixed(3),
        sad,
        mse,
        mean_cg_iterations: +(iterations / 27).toFixed(1),
        note: 'wall time, one thread, decoding excluded; cpu_s = user CPU time (steadier when the machine is shared); reference pymatting 1.32 s'
      })
    if (want('matte.alphamatting.peak_mib'))
      emit({
        bench: 'matte.alphamatting.peak_mib',
        value: Math.round(process.resourceUsage().maxRSS / 1024),
        unit: 'MiB',
        ...common,
        note: 'peak RSS of the bench process'
      })
    if (want('matte.alphamatting.sad'))
      emit({ bench: 'matte.alphamatting.sad', value: sad, unit: 'SAD/1000', ...common, note: 'mean over images of Σ|α−GT|/1000; reference pymatting 5.33' })
    if (want('matte.alphamatting.mse'))
      emit({
        bench: 'matte.alphamatting.mse',
        value: mse,
        unit: 'MSE×1000',
        ...common,
        note: 'mean over images of MSE on unknown pixels ×1000; reference pymatting 21.8'
      })
  }
}

export default bench
