// Sharded prediction on a cluster: which shard this task is (--shard K/N, or auto from the scheduler's
// environment), and `leafseg predict merge` to join the shards' outputs.
import type { Command, Options } from '../command'
import { noteProblems, requireString, UsageError } from '../command'
import { withSession } from '../session'

export const shardOptions: Options = { list: { type: 'string' }, shard: { type: 'string' }, shards: { type: 'string' } }

export const shardHelp = [
  '--list FILE           instead of --images: a file naming one photo per line (relative to the file’s folder)',
  '--shard K/N           predict only the K-th (1..N) of N equal parts of the photos sorted by path (with --model);',
  '                      --out then gets the part’s masks, measurements.csv and shard.json, for leafseg predict merge',
  '--shard auto          K and N from Slurm (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT)',
  '                      or Kubernetes (JOB_COMPLETION_INDEX, with --shards N)',
  '--shards N            the number of parts with --shard auto (required on Kubernetes; checked against Slurm’s)'
]

const whole = (text: string | undefined, what: string): number => {
  const n = Number(text)
  if (text === undefined || text.trim() === '' || !Number.isInteger(n)) throw new UsageError(`${what} must be a whole number, not “${text ?? ''}”.`)
  return n
}

/** The shard this task predicts, from --shard (and --shards) and the environment; undefined without --shard. */
export function shardFromOptions(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } | undefined {
  const spec = values.shard
  const shards = typeof values.shards === 'string' ? whole(values.shards, '--shards') : undefined
  if (spec === undefined) {
    if (shards !== undefined) throw new UsageError('--shards goes with --shard auto.')
    return undefined
  }
  if (typeof spec !== 'string') throw new UsageError('--shard takes K/N or auto.')
  let index: number
  let count: number
  if (spec === 'auto') {
    if (env.SLURM_ARRAY_TASK_ID !== undefined) {
      index = whole(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID') - whole(env.SLURM_ARRAY_TASK_MIN ?? '0', 'SLURM_ARRAY_TASK_MIN') + 1
      count = whole(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT')
      if (shards !== undefined && shards !== count) throw new UsageError(`--shards ${shards} does not match the Slurm array's ${count} tasks.`)
    } else if (env.JOB_COMPLETION_INDEX !== undefined) {
      if (shards === undefined) throw new UsageError('On Kubernetes, --shard auto needs --shards N (the Job’s completions).')
      index = whole(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX') + 1
      count = shards
    } else {
      throw new UsageError('--shard auto found neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).')
    }
  } else {
    const match = /^(\d+)\/(\d+)$/.exec(spec)
    if (!match) throw new UsageError(`--shard takes K/N (such as 1/4) or auto, not “${spec}”.`)
    index = Number(match[1])
    count = Number(match[2])
    if (shards !== undefined) throw new UsageError('--shards goes with --shard auto; with K/N, N is the count.')
  }
  if (!(count >= 1 && index >= 1 && index <= count)) throw new UsageError(`The shard must be K/N with 1 ≤ K ≤ N (got ${index}/${count}); K counts from 1.`)
  return { index, count }
}

export const predictMergeCommand: Command = {
  name: 'predict merge',
  summary: 'Join the outputs of sharded predictions into one CSV, reporting missing and duplicate photos',
  usage: 'leafseg predict merge OUT_DIR... --csv FILE [--force]',
  options: { csv: { type: 'string' }, force: { type: 'boolean' } },
  flags: { 'predictions.mergeShards': { dirs: 'OUT_DIR...', csv: '--csv' } },
  help: [
    'OUT_DIR...   the --out folders of the shards (each holds shard.json)',
    '--csv FILE   the joined measurements, one row per photo in path order (as one unsharded run writes them)',
    '--force      replace an existing --csv file (refused without)',
    'Reports shards that are missing or given twice, photos predicted twice, and photos a shard could not predict.'
  ],
  async run({ values, positionals, json }) {
    const csv = requireString(values, 'csv')
    if (positionals.length === 0) throw new UsageError('Give the shards’ output folders.')
    return withSession(json, async (cli) => {
      const merged = await cli.call('predictions.mergeShards', { dirs: positionals, csv, overwrite: values.force === true })
      if (!json) {
        console.log(`Merged ${merged.shards} of ${merged.of} shard(s): ${merged.rows} photo(s) in ${merged.csv}.`)
        if (merged.missingShards.length) console.log(`Missing shards: ${merged.missingShards.join(', ')} (of ${merged.of}).`)
        if (merged.duplicateShards.length) console.log(`Shards given twice: ${merged.duplicateShards.join(', ')}.`)
        if (merged.duplicatePhotos.length) console.log(`Photos predicted in more than one shard (kept once): ${merged.duplicatePhotos.length}, such as ${merged.duplicatePhotos[0]}.`)
        for (const p of merged.missingPhotos.slice(0, 10)) console.log(`  not predicted: ${p.path}: ${p.reason}`)
        if (merged.missingPhotos.length > 10) console.log(`  … and ${merged.missingPhotos.length - 10} more not predicted`)
      }
      // A missing shard, or a photo a shard could not predict, is a failed item: a scheduler's afterok must not go on.
      noteProblems(merged.missingShards.length + merged.missingPhotos.length)
      return merged
    })
  }
}
