import { copyFileSync, mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Command } from '../command'
import { UsageError, optionalNumber, requireString } from '../command'
import { createNodeService, progressBar, runJob } from '../session'
import type { LeafsegService } from '../../main/core/service/service'
import type { Scores } from '../../shared/api/evaluation'
import { batchCsvRows } from '../../main/core/prediction/jobs'
import { fullResolution, predictPhoto } from '../../main/core/model/tiling'
import { maskFromProbabilities } from '../../main/core/model/mask'
import { measureLeaves } from '../../main/core/prediction/measure'
import { scanPhotos } from '../../main/core/datasets/photos'
import { stemOf } from '../../main/core/datasets/util'
import { readRaster, writePng } from '../../main/core/imaging/raster'
import { measurementRow, writeMeasurementsCsv, type MeasurementRow } from '../../main/core/prediction/csv'

async function findRun(service: LeafsegService, project: string, run: string) {
  await service.api['projects.open']({ dir: project })
  const runs = await service.api['runs.list']({})
  const found = runs.find((r) => String(r.id) === run) ?? runs.find((r) => r.name === run)
  if (!found) throw new UsageError(`The project has no run “${run}” (give its id or name; \`leafseg project info\` lists them).`)
  return found
}

const table = (pooled: Scores, mean: Scores) =>
  (['accuracy', 'iou', 'dice', 'precision', 'recall'] as const).map((k) => `  ${k.padEnd(10)} ${pooled[k].toFixed(4)}   ${mean[k].toFixed(4)}`).join('\n')

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a run: accuracy, IoU, Dice, precision, recall (pooled and per-photo mean)',
  usage: 'leafseg eval --project P --run R [--split val|test | --dataset D] [--checkpoint best|last] [--threshold 0.5]',
  options: { project: { type: 'string' }, run: { type: 'string' }, split: { type: 'string' }, dataset: { type: 'string' }, checkpoint: { type: 'string' }, threshold: { type: 'string' } },
  help: [
    '--run R            the run (id or name)',
    '--split val|test   its validation photos (default) or its dataset’s test split',
    '--dataset D        or any dataset with masks',
    '--checkpoint C     best (by validation IoU, default) or last',
    '--threshold T      probability threshold, 0–1 (default 0.5)',
    'Pooled figures count all pixels together; per-photo means weigh every photo the same.'
  ],
  async run({ values, json }) {
    const service = createNodeService('cli')
    try {
      const run = await findRun(service, requireString(values, 'project'), requireString(values, 'run'))
      const checkpoint = values.checkpoint === 'last' ? 'last' : 'best'
      const threshold = optionalNumber(values, 'threshold') ?? 0.5
      let datasetId: number | undefined
      if (typeof values.dataset === 'string') {
        const name = values.dataset
        const d = (await service.api['datasets.list']({})).find((x) => x.name.toLowerCase() === name.toLowerCase())
        if (!d) throw new UsageError(`The project has no dataset called “${name}”.`)
        datasetId = d.id
      }
      const source = datasetId !== undefined ? 'dataset' : values.split === 'test' ? 'test' : 'val'
      const job = await runJob(service, () => service.api['evaluations.start']({ runId: run.id, checkpoint, source, datasetId }), json)
      const result = await service.api['evaluations.get']({ id: (job.result as { evaluationId: number }).evaluationId, threshold })
      if (!json) {
        console.log(`Run ${run.id} “${run.name}” (${checkpoint}) on ${result.datasetName}: ${result.photos} photos, threshold ${result.threshold}`)
        console.log(`             pooled   per-photo mean\n${table(result.pooled, result.meanPerPhoto)}`)
        console.log(`Worst photos by IoU: ${result.perPhoto.slice(0, 5).map((p) => `${p.name} ${p.scores.iou.toFixed(3)}`).join(', ')}`)
      }
      return {
        run: run.id,
        evaluation: result.id,
        threshold: result.threshold,
        photos: result.photos,
        pooled: result.pooled,
        meanPerPhoto: result.meanPerPhoto,
        perPhoto: result.perPhoto.map((p) => ({ photo: p.name, ...p.scores }))
      }
    } finally {
      service.dispose()
    }
  }
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict leaf masks for a folder of photos and measure leaf area',
  usage: 'leafseg predict (--project P --run R | --model DIR) --images DIR --out DIR [--csv FILE] [--scale PX_PER_MM] [--threshold 0.5] [--min-leaf-area N] [--cutouts]',
  options: {
    project: { type: 'string' },
    run: { type: 'string' },
    model: { type: 'string' },
    checkpoint: { type: 'string' },
    images: { type: 'string' },
    out: { type: 'string' },
    csv: { type: 'string' },
    scale: { type: 'string' },
    threshold: { type: 'string' },
    'min-leaf-area': { type: 'string' },
    cutouts: { type: 'boolean' }
  },
  help: [
    '--project P --run R   a run of a project (its best checkpoint, or --checkpoint last)',
    '--model DIR           or a model folder (model.json + weights.bin) without a project; the CSV’s run_id is then its path',
    '--images DIR          the photos (sub-folders searched)',
    '--out DIR             where the masks go: one PNG per photo, named like it',
    '--csv FILE            leaf area per photo (columns: photo, width, height, area_px, area_mm2, foreground_fraction, leaf_count, …)',
    '--scale PX_PER_MM     pixels per millimetre, for areas in mm²',
    '--threshold T         probability threshold (default 0.5)',
    '--min-leaf-area N     smaller specks are not counted as leaves (default 50 px)',
    '--cutouts             also write RGBA cutouts (project mode, through the matting step)'
  ],
  async run({ values, json }) {
    const images = requireString(values, 'images')
    const out = requireString(values, 'out')
    const threshold = optionalNumber(values, 'threshold') ?? 0.5
    const pxPerMm = optionalNumber(values, 'scale') ?? null
    const minLeafAreaPx = optionalNumber(values, 'min-leaf-area') ?? 50
    mkdirSync(out, { recursive: true })
    let rows: MeasurementRow[]
    let problems: { path: string; reason: string }[] = []
    if (typeof values.model === 'string') {
      const { loadModel } = await import('../../main/core/model/predict') // tfjs only when a command needs it
      const model = await loadModel(values.model)
      try {
        const { predictor, options } = fullResolution(model)
        const scan = await scanPhotos([images])
        const files = scan.files.filter((f) => !f.problem)
        problems = scan.files.filter((f) => f.problem).map((f) => ({ path: f.path, reason: f.problem!.message }))
        if (files.length === 0) throw new UsageError(`No photos in ${images}.`)
        const bar = progressBar(json)
        rows = []
        for (const [i, f] of files.entries()) {
          const rgb = await readRaster(f.path, 3)
          const map = await predictPhoto(predictor, rgb, { ...options, photo: f.path })
          const mask = maskFromProbabilities(map.data, rgb.width, rgb.height, threshold)
          await writePng(join(out, `${stemOf(f.path)}.png`), mask)
          rows.push(measurementRow(basename(f.path), measureLeaves(mask, { minLeafAreaPx, pixelsPerMm: pxPerMm ?? undefined }), { source: 'predicted', runId: values.model as string, threshold }))
          bar.update(i + 1, files.length, basename(f.path))
        }
        bar.stop()
      } finally {
        model.dispose()
      }
    } else {
      const service = createNodeService('cli')
      try {
        const run = await findRun(service, requireString(values, 'project'), requireString(values, 'run'))
        const job = await runJob(
          service,
          () =>
            service.api['predictions.start']({
              runId: run.id,
              checkpoint: values.checkpoint === 'last' ? 'last' : 'best',
              source: { kind: 'folder', dir: images },
              threshold,
              cutouts: Boolean(values.cutouts),
              measure: { minLeafAreaPx, pxPerMm }
            }),
          json
        )
        const result = job.result as { batchId: number; problems: { path: string; reason: string }[] }
        problems = result.problems
        const { project } = service.requireProject()
        const photos = await service.api['predictions.photos']({ batchId: result.batchId })
        for (const p of photos) {
          copyFileSync(join(project.dir, p.maskFile), join(out, basename(p.maskFile)))
          if (p.cutoutFile) copyFileSync(join(project.dir, p.cutoutFile), join(out, basename(p.cutoutFile)))
        }
        rows = batchCsvRows(project.db, result.batchId)
      } finally {
        service.dispose()
      }
    }
    if (typeof values.csv === 'string') await writeMeasurementsCsv(values.csv, rows)
    if (!json) {
      console.log(`Predicted ${rows.length} mask(s) into ${out}${typeof values.csv === 'string' ? `; measurements in ${values.csv}` : ''}.`)
      for (const p of problems.slice(0, 10)) console.log(`  ${p.path}: ${p.reason}`)
    }
    return { masks: rows.length, out, csv: values.csv ?? null, problems, measurements: rows }
  }
}
