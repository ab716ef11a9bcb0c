import type { Command } from '../command'
import { requireString, UsageError } from '../command'
import { withSession } from '../session'

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write a run’s model as an ONNX file (for onnxruntime, Python or any ONNX tool)',
  usage: 'leafseg export --project P --run R [--checkpoint best|last] --onnx FILE',
  options: { project: { type: 'string' }, run: { type: 'string' }, checkpoint: { type: 'string' }, onnx: { type: 'string' } },
  help: [
    '--run R            the run (id or name)',
    '--checkpoint C     best (by validation IoU, default) or last',
    '--onnx FILE        the ONNX file to write: input “image” [batch, height, width, 3] RGB 0–1,',
    '                   output “mask” [batch, height, width, 1] leaf probabilities (height, width: multiples of 2^depth);',
    '                   for a run that separates leaves [batch, height, width, 2]: leaf, then the band where leaves touch'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    const runName = requireString(values, 'run')
    const file = requireString(values, 'onnx')
    const checkpoint = values.checkpoint ?? 'best'
    if (checkpoint !== 'best' && checkpoint !== 'last') throw new UsageError(`--checkpoint must be best or last, not “${String(checkpoint)}”.`)
    return withSession(json, async (cli) => {
      await cli.open(project)
      const run = await cli.call('runs.findByName', { name: runName })
      const job = await cli.runJob(() => cli.call('runs.exportOnnx', { runId: run.id, checkpoint, file }))
      if (!json)
        console.log(
          `Wrote run ${run.id} “${run.name}” (${checkpoint}) as ONNX: ${job.result.file} (${Math.ceil(job.result.bytes / 1024)} KiB)` +
            (run.config.instances ? '; its output has 2 channels: leaf, then the band where leaves touch.' : '.')
        )
      return { run: run.id, checkpoint, file: job.result.file, bytes: job.result.bytes }
    })
  }
}
