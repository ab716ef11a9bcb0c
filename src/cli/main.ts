// The `leafseg` command line: headless batch work over the same core as the app.
import { ApiError } from '../shared/errors'
import { appVersion } from '../shared/version'
import { exitCodes, itemProblems, parseCommandArgs, refusalInFlags, UsageError, type Command } from './command'
import { projectClean, projectCreate, projectInfo } from './commands/project'
import { serve } from './commands/serve'
import { importCommand, splitCommand } from './commands/datasets'
import { matteCommand, trimapCommand } from './commands/matting'
import { classifyCommand } from './commands/classify'
import { trainCommand } from './commands/training'
import { evalCommand, predictCommand } from './commands/evaluation'
import { exportCommand } from './commands/export'
import { predictResumeCommand } from './commands/prediction-batches'
import { predictMergeCommand } from './commands/shards'

const commands: Command[] = [
  projectCreate,
  projectInfo,
  projectClean,
  importCommand,
  splitCommand,
  trimapCommand,
  matteCommand,
  classifyCommand,
  trainCommand,
  evalCommand,
  predictResumeCommand,
  predictMergeCommand,
  predictCommand,
  exportCommand,
  serve
]

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    `leafseg ${appVersion} — leaf photos to leaf masks, from the command line`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help, and --json to print one JSON object that sums up what it did.',
    'Progress goes to stderr: a bar on a terminal, a plain line now and then otherwise.',
    '',
    'Exit codes:',
    `  ${exitCodes.done}  all done`,
    `  ${exitCodes.problems}  some items failed (each is listed with its reason), or the work failed`,
    `  ${exitCodes.usage}  usage error, or an argument refused (out of bounds, no such dataset or run); nothing was changed`,
    '',
    '`predict merge` exits 1 when a shard is missing or failed. A --ratio whose parts do not add up to 100 exits 2.'
  ].join('\n')
}

function commandHelp(c: Command): string {
  return [
    `${c.summary}\n`,
    `Usage: ${c.usage}`,
    '',
    ...c.help.map((h) => `  ${h}`),
    '  --json       print one JSON summary object on stdout',
    '  -h, --help   this help'
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(overview())
    return 0
  }
  if (argv[0] === '--version') {
    console.log(appVersion)
    return 0
  }
  const command = commands.find((c) => {
    const words = c.name.split(' ')
    return words.every((w, i) => argv[i] === w)
  })
  if (!command) {
    console.error(`leafseg: unknown command “${argv.slice(0, 2).join(' ')}”.\n\n${overview()}`)
    return exitCodes.usage
  }
  const rest = argv.slice(command.name.split(' ').length)
  let json = false
  try {
    const { values, positionals } = parseCommandArgs(command, rest)
    if (values.help) {
      console.log(commandHelp(command))
      return exitCodes.done
    }
    json = Boolean(values.json)
    const summary = await command.run({ values, positionals, json })
    if (json && summary !== null) console.log(JSON.stringify(summary))
    if (itemProblems.count === 0) return exitCodes.done
    console.error(
      `leafseg ${command.name}: ${itemProblems.count} item${itemProblems.count === 1 ? '' : 's'} failed${json ? ' (see "problems" in the JSON)' : ' (listed above)'}; exit code ${exitCodes.problems}.`
    )
    return exitCodes.problems
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    // The API refused an argument (out of bounds, no such dataset or run): as much a usage error, without the help.
    const refused = err instanceof ApiError && (err.code === 'invalid_argument' || err.code === 'not_found')
    const message = err instanceof ApiError && err.refused ? refusalInFlags(err, command.flags) : err instanceof Error ? err.message : String(err)
    if (json) console.log(JSON.stringify({ error: { code: err instanceof ApiError ? err.code : usage ? 'usage' : 'internal', message } }))
    console.error(`leafseg ${command.name}: ${message}${usage ? `\n\n${commandHelp(command)}` : ''}`)
    return usage || refused ? exitCodes.usage : exitCodes.problems
  }
}

process.exitCode = await main(process.argv.slice(2))
