import type { Command } from '../command'
import { noteProblems, optionalNumber, requireString, UsageError } from '../command'
import { evaluationScoresMeasure } from '../../shared/measures'
import { shardFromOptions, shardHelp, shardOptions } from './shards'
import { withSession, type Cli } from '../session'
import type { Scores } from '../../shared/api/evaluation'
import type { MeasurementRow } from '../../shared/api/prediction'
import { defaultMinLeafAreaPx, defaultProbabilityThreshold, probabilityThresholdBounds as thresholdBounds } from '../../shared/bounds'

/** --checkpoint best|last (default best); anything else is refused rather than read as best. */
function checkpointOption(values: Record<string, unknown>): 'best' | 'last' {
  const value = values.checkpoint ?? 'best'
  if (value !== 'best' && value !== 'last') throw new UsageError(`--checkpoint must be best or last, not “${String(value)}”.`)
  return value
}

async function findRun(cli: Cli, project: string, run: string) {
  await cli.open(project)
  return cli.call('runs.findByName', { name: run })
}

const table = (pooled: Scores, mean: Scores) =>
  (['accuracy', 'iou', 'dice', 'precision', 'recall'] as const).map((k) => `  ${k.padEnd(10)} ${pooled[k].toFixed(4)}   ${mean[k].toFixed(4)}`).join('\n')

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a run: accuracy, IoU, Dice, precision, recall (pooled and per-photo mean)',
  usage: `leafseg eval --project P --run R [--split val|test | --dataset D] [--checkpoint best|last] [--threshold ${defaultProbabilityThreshold}]`,
  options: { project: { type: 'string' }, run: { type: 'string' }, split: { type: 'string' }, dataset: { type: 'string' }, checkpoint: { type: 'string' }, threshold: { type: 'string' } },
  flags: { 'runs.findByName': { name: '--run' }, 'datasets.findByName': { name: '--dataset' }, 'evaluations.get': { threshold: '--threshold' } },
  help: [
    '--run R            the run (id or name)',
    '--split val|test   its validation photos (default) or its dataset’s test split',
    '--dataset D        or any dataset with masks',
    '--checkpoint C     best (by validation IoU, default) or last',
    `--threshold T      probability threshold, ${thresholdBounds.min}–${thresholdBounds.max} (default ${defaultProbabilityThreshold})`,
    'Pooled figures count all pixels together; per-photo means weigh every photo the same. Training\'s validation',
    'IoU is measured at the network\'s input size (see the run); this is at the photos\' full resolution.',
    'For a run that separates leaves (train --instances), on photos whose masks tell leaves apart, also the CVPPP leaf',
    'measures, means over photos at the multiple of 0.1 nearest the threshold: SBD (symmetric best Dice: how well',
    'each leaf is outlined), DiC and |DiC| (predicted minus true leaf count) and FBD (Dice of all leaf pixels).'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    const runName = requireString(values, 'run')
    const checkpoint = checkpointOption(values)
    const threshold = optionalNumber(values, 'threshold') ?? defaultProbabilityThreshold
    if (values.split !== undefined && values.split !== 'val' && values.split !== 'test') throw new UsageError(`--split must be val or test, not “${String(values.split)}”.`)
    if (values.split !== undefined && values.dataset !== undefined) throw new UsageError('Give --split or --dataset, not both.')
    return withSession(json, async (cli) => {
      // The threshold is used only once the evaluation is made: refused before it is made, not after.
      cli.check('evaluations.get', { id: 1, threshold })
      const run = await findRun(cli, project, runName)
      const datasetId = typeof values.dataset === 'string' ? (await cli.call('datasets.findByName', { name: values.dataset })).id : undefined
      const source = datasetId !== undefined ? 'dataset' : values.split === 'test' ? 'test' : 'val'
      const job = await cli.runJob(() => cli.call('evaluations.start', { runId: run.id, checkpoint, source, datasetId }))
      const result = await cli.call('evaluations.get', { id: job.result.evaluationId, threshold })
      if (!json) {
        console.log(`Run ${run.id} “${run.name}” (${checkpoint}) on ${result.datasetName}: ${result.photos} photos`)
        console.log(`Measured on ${evaluationScoresMeasure(result.threshold)}.`)
        console.log(`             pooled   per-photo mean\n${table(result.pooled, result.meanPerPhoto)}`)
        const leaves = result.instances
        if (leaves) {
          console.log(
            `Leaves (${leaves.photos} photos, threshold ${result.leavesThreshold}): SBD ${(leaves.sbd * 100).toFixed(1)}  DiC ${leaves.dic.toFixed(2)}  |DiC| ${leaves.absDic.toFixed(2)}  FBD ${(leaves.fbd * 100).toFixed(1)}`
          )
          console.log(`Worst photos by SBD: ${result.perPhoto.slice(0, 5).map((p) => `${p.name} ${p.instances ? (p.instances.sbd * 100).toFixed(1) : '–'}`).join(', ')}`)
        } else console.log(`Worst photos by IoU: ${result.perPhoto.slice(0, 5).map((p) => `${p.name} ${p.scores.iou.toFixed(3)}`).join(', ')}`)
      }
      return {
        run: run.id,
        evaluation: result.id,
        threshold: result.threshold,
        measured: evaluationScoresMeasure(result.threshold),
        photos: result.photos,
        pooled: result.pooled,
        meanPerPhoto: result.meanPerPhoto,
        leaves: result.instances,
        leavesThreshold: result.leavesThreshold,
        perPhoto: result.perPhoto.map((p) => ({ photo: p.name, ...p.scores, ...(p.instances && { leaves: p.instances }) }))
      }
    })
  }
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict leaf masks for a folder of photos and measure leaf area',
  usage:
    `leafseg predict (--project P --run R [--checkpoint best|last] | --model DIR) (--images DIR | --list FILE) --out DIR [--shard K/N|auto] [--csv FILE [--force]] [--scale PX_PER_MM] [--threshold ${defaultProbabilityThreshold}] [--min-leaf-area N] [--cutouts]`,
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
    cutouts: { type: 'boolean' },
    force: { type: 'boolean' },
    ...shardOptions
  },
  flags: {
    'runs.findByName': { name: '--run' },
    'predictions.start': { 'source.dir': '--images', threshold: '--threshold', 'measure.minLeafAreaPx': '--min-leaf-area', 'measure.pxPerMm': '--scale' },
    'predictions.exportMasks': { dir: '--out' },
    'predictions.exportCsv': { file: '--csv' },
    'predictions.fromModel': { model: '--model', images: '--images', list: '--list', shard: '--shard', out: '--out', csv: '--csv', threshold: '--threshold', 'measure.minLeafAreaPx': '--min-leaf-area', 'measure.pxPerMm': '--scale' }
  },
  help: [
    '--project P --run R   a run of a project',
    '--checkpoint C        with --run: best (by validation IoU, default) or last',
    '--model DIR           or a model folder (model.json + weights.bin) without a project; the CSV’s run_id is then its path',
    '--images DIR          the photos (sub-folders searched)',
    '--out DIR             where the masks go: one PNG per photo, named like it',
    '--csv FILE            leaf area per photo (columns: photo, width, height, area_px, area_mm2, foreground_fraction, leaf_count or region_count, …)',
    '--force               replace an existing --csv file (refused without)',
    '--scale PX_PER_MM     pixels per millimetre, for areas in mm²',
    `--threshold T         probability threshold, ${thresholdBounds.min}–${thresholdBounds.max} (default ${defaultProbabilityThreshold})`,
    `--min-leaf-area N     smaller specks are not counted as leaves (default ${defaultMinLeafAreaPx} px)`,
    "--cutouts             also write RGBA cutouts (project mode, through the matting step; trimaps fitted to the leaves)",
    ...shardHelp
  ],
  async run({ values, json }) {
    const list = typeof values.list === 'string' ? values.list : undefined
    const images = list === undefined ? requireString(values, 'images') : undefined
    if (list !== undefined && values.images !== undefined) throw new UsageError('Give --images or --list, not both.')
    const shard = shardFromOptions(values)
    if ((shard || list !== undefined) && typeof values.model !== 'string') throw new UsageError('--list and --shard work with --model DIR (copy the run’s checkpoint folder to the cluster).')
    const out = requireString(values, 'out')
    const threshold = optionalNumber(values, 'threshold') ?? defaultProbabilityThreshold
    const measure = { minLeafAreaPx: optionalNumber(values, 'min-leaf-area') ?? defaultMinLeafAreaPx, pxPerMm: optionalNumber(values, 'scale') ?? null }
    const csv = typeof values.csv === 'string' ? values.csv : undefined
    const overwrite = values.force === true
    if (values.checkpoint !== undefined && typeof values.model === 'string') throw new UsageError('--checkpoint chooses a checkpoint of --run; a --model folder is one checkpoint already.')
    const checkpoint = checkpointOption(values)
    return withSession(json, async (cli) => {
      let rows: MeasurementRow[]
      let problems: { path: string; reason: string }[]
      let engine: string
      let written = csv ?? null
      if (typeof values.model === 'string') {
        const model = values.model
        const result = await cli.withFolderProgress(() => cli.call('predictions.fromModel', { model, images, list, shard, out, csv, overwrite, threshold, measure }))
        rows = result.measurements
        problems = result.problems
        noteProblems(problems.length) // a job's problems are counted by runJob
        engine = result.engine
        written = result.csv
      } else {
        const source = { kind: 'folder' as const, dir: images! }
        // Every argument of the calls after the batch is made is refused before it is made.
        cli.check('predictions.start', { runId: 1, checkpoint, source, threshold, cutouts: Boolean(values.cutouts), measure })
        cli.check('predictions.exportMasks', { batchId: 1, dir: out })
        if (csv !== undefined) cli.check('predictions.exportCsv', { batchId: 1, file: csv })
        const run = await findRun(cli, requireString(values, 'project'), requireString(values, 'run'))
        const job = await cli.runJob(() => cli.call('predictions.start', { runId: run.id, checkpoint, source, threshold, cutouts: Boolean(values.cutouts), measure }))
        const { batchId } = job.result
        problems = job.result.problems
        engine = job.result.engine
        await cli.call('predictions.exportMasks', { batchId, dir: out })
        if (csv !== undefined) await cli.call('predictions.exportCsv', { batchId, file: csv, overwrite })
        rows = await cli.call('predictions.measurements', { batchId })
      }
      if (!json) {
        const part = shard ? ` (shard ${shard.index}/${shard.count})` : ''
        console.log(`Predicted ${rows.length} mask(s)${part} into ${out} with ${engine}${written !== null ? `; measurements in ${written}` : ''}.`)
        for (const p of problems.slice(0, 10)) console.log(`  ${p.path}: ${p.reason}`)
        if (problems.length > 10) console.log(`  … and ${problems.length - 10} more (--json lists them all)`)
      }
      return { masks: rows.length, out, csv: written, engine, shard: shard ?? null, problems, measurements: rows }
    })
  }
}
