import type { Command } from '../command'
import { optionalNumber, requireString, UsageError } from '../command'
import { withSession } from '../session'

export const predictResumeCommand: Command = {
  name: 'predict resume',
  summary: 'Resume a prediction batch that was cancelled or stopped, or retry the photos that failed in it',
  usage: 'leafseg predict resume --project P [--batch B] [--out DIR] [--csv FILE [--force]]',
  options: { project: { type: 'string' }, batch: { type: 'string' }, out: { type: 'string' }, csv: { type: 'string' }, force: { type: 'boolean' } },
  flags: { 'predictions.exportMasks': { dir: '--out' }, 'predictions.exportCsv': { file: '--csv' } },
  help: [
    '--batch B     the batch (default: the latest one that can be resumed)',
    '--out DIR     then copy all the batch’s masks here',
    '--csv FILE    then write the batch’s measurements here (--force: replace an existing file)',
    'Photos the batch already has (the same content) are skipped; only the rest are predicted.'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    const asked = optionalNumber(values, 'batch')
    return withSession(json, async (cli) => {
      // --out and --csv are used after the batch is resumed: refused before.
      if (typeof values.out === 'string') cli.check('predictions.exportMasks', { batchId: 1, dir: values.out })
      if (typeof values.csv === 'string') cli.check('predictions.exportCsv', { batchId: 1, file: values.csv })
      await cli.open(project)
      const batches = await cli.call('predictions.list', {})
      const batch = asked === undefined ? batches.find((b) => b.canResume) : batches.find((b) => b.id === asked)
      if (!batch) throw new UsageError(asked === undefined ? 'No prediction batch in this project can be resumed.' : `The project has no prediction batch ${asked}.`)
      const job = await cli.runJob(() => cli.call('predictions.resume', { batchId: batch.id }))
      const { photos, skipped, problems, engine } = job.result
      if (typeof values.out === 'string') await cli.call('predictions.exportMasks', { batchId: batch.id, dir: values.out })
      if (typeof values.csv === 'string') await cli.call('predictions.exportCsv', { batchId: batch.id, file: values.csv, overwrite: values.force === true })
      if (!json) {
        console.log(`Batch ${batch.id}: predicted ${photos} more photo(s) with ${engine}; ${skipped} were done before.`)
        for (const p of problems.slice(0, 10)) console.log(`  ${p.path}: ${p.reason}`)
        if (problems.length > 10) console.log(`  … and ${problems.length - 10} more`)
      }
      return { batch: batch.id, photos, skipped, problems, engine }
    })
  }
}
