import type { Command } from '../command'
import { requireString, UsageError } from '../command'
import { withSession } from '../session'

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write a run’s model as an ONNX file, or a dataset’s masks (PNG or COCO, with their leaves)',
  usage: 'leafseg export --project P (--run R [--checkpoint best|last] --onnx FILE [--force] | --dataset NAME --masks DIR [--format png|coco])',
  options: {
    project: { type: 'string' },
    run: { type: 'string' },
    checkpoint: { type: 'string' },
    onnx: { type: 'string' },
    dataset: { type: 'string' },
    masks: { type: 'string' },
    format: { type: 'string' },
    force: { type: 'boolean' }
  },
  flags: {
    'datasets.findByName': { name: '--dataset' },
    'datasets.exportMasks': { dir: '--masks', format: '--format' },
    'runs.findByName': { name: '--run' },
    'runs.exportOnnx': { file: '--onnx', checkpoint: '--checkpoint' }
  },
  help: [
    '--run R            the run (id or name)',
    '--checkpoint C     best (by validation IoU, default) or last',
    '--onnx FILE        the ONNX file to write: input “image” [batch, height, width, 3] RGB 0–1,',
    '                   output “mask” [batch, height, width, 1] leaf probabilities (height, width: multiples of 2^depth);',
    '                   for a run that separates leaves [batch, height, width, 2]: leaf, then the band where leaves touch',
    '--force            replace an existing --onnx file (refused without)',
    '--dataset NAME     the dataset whose masks to write',
    '--masks DIR        the folder to write them into',
    '--format F         png (default): <photo>.png (0/255) and, for a mask with leaves, <photo>.instances.png',
    '                   (one channel, 0 = background, 1..n = each leaf); coco: one JSON file, one object per leaf'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    if (values.masks !== undefined || values.dataset !== undefined) {
      const name = requireString(values, 'dataset')
      const dir = requireString(values, 'masks')
      const format = values.format ?? 'png'
      if (format !== 'png' && format !== 'coco') throw new UsageError(`--format must be png or coco, not “${String(format)}”.`)
      return withSession(json, async (cli) => {
        await cli.open(project)
        const dataset = await cli.call('datasets.findByName', { name })
        const job = await cli.runJob(() => cli.call('datasets.exportMasks', { datasetId: dataset.id, dir, format }))
        if (!json) console.log(`Wrote the masks of ${job.result.written} photos of “${dataset.name}” as ${format === 'png' ? 'PNG' : 'COCO'}: ${job.result.path}`)
        return { dataset: dataset.name, format, written: job.result.written, path: job.result.path }
      })
    }
    const runName = requireString(values, 'run')
    const file = requireString(values, 'onnx')
    const checkpoint = values.checkpoint ?? 'best'
    if (checkpoint !== 'best' && checkpoint !== 'last') throw new UsageError(`--checkpoint must be best or last, not “${String(checkpoint)}”.`)
    return withSession(json, async (cli) => {
      await cli.open(project)
      const run = await cli.call('runs.findByName', { name: runName })
      const job = await cli.runJob(() => cli.call('runs.exportOnnx', { runId: run.id, checkpoint, file, overwrite: values.force === true }))
      if (!json)
        console.log(
          `Wrote run ${run.id} “${run.name}” (${checkpoint}) as ONNX: ${job.result.file} (${Math.ceil(job.result.bytes / 1024)} KiB)` +
            (run.config.instances ? '; its output has 2 channels: leaf, then the band where leaves touch.' : '.')
        )
      return { run: run.id, checkpoint, file: job.result.file, bytes: job.result.bytes }
    })
  }
}
