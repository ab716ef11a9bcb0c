// What every CLI command is: a name, help text, typed options, and a run function.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { ApiError } from '../shared/errors'
import type { ApiMethod } from '../shared/api'

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  name: string
  summary: string
  usage: string
  options: Options
  /** Lines of help about the options, shown by --help. */
  help: string[]
  /**
   * For each API method the command calls, which flag gives each of its fields ("kernelSize" → "--kernel"; a
   * field also covers the fields under it: "ratio" covers "ratio.0"), so that a refusal is told in its words.
   */
  flags: Flags
  run(args: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[]; json: boolean }): Promise<unknown>
}

/** Method → API field → the flag (or argument) that gives it. */
export type Flags = Partial<Record<ApiMethod, Record<string, string>>>

export const commonOptions: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' }
}

export function parseCommandArgs(command: Command, argv: string[]) {
  return parseArgs({ args: argv, options: { ...commonOptions, ...command.options }, allowPositionals: true, strict: true })
}

/**
 * Exit codes, as `leafseg --help` and the README state them: 0 all done; 1 some items failed (the command
 * lists them) or the work failed; 2 a usage error or an argument the API refused.
 */
export const exitCodes = { done: 0, problems: 1, usage: 2 } as const

/** Items the command could not do (photos, files): counted here so that the exit code says so. */
export const itemProblems = { count: 0 }

export function noteProblems(count: number): void {
  itemProblems.count += count
}

/** A user mistake on the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name]
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required.`)
  return v
}

export function optionalNumber(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const n = Number(v)
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not “${String(v)}”.`)
  return n
}

/** The flag that gave an API field: the longest entry of `flags` that is the field or holds it. */
function flagFor(field: string, flags: Record<string, string>): string | undefined {
  const key = Object.keys(flags)
    .filter((k) => field === k || field.startsWith(`${k}.`))
    .sort((a, b) => b.length - a.length)[0]
  return key === undefined ? undefined : flags[key]
}

/**
 * A refused argument in the command line's words (`--kernel must be at least 1`, not the API's
 * `matting.makeTrimaps: kernelSize: at least 1`); the API's message where a field has no flag.
 */
export function refusalInFlags(err: ApiError, flags: Flags): string {
  const table = err.refused ? flags[err.refused.method as ApiMethod] : undefined
  if (!err.refused || !table) return err.message
  const said = err.refused.fields.map(({ field, problem }) => {
    const flag = flagFor(field, table)
    if (flag === undefined) return undefined
    if (/^(at least|at most|below|above) /.test(problem)) return `${flag} must be ${problem}`
    if (problem.startsWith('must ')) return `${flag} ${problem}`
    return `${flag}: ${problem}`
  })
  if (said.length === 0 || said.includes(undefined)) return err.message
  return [...new Set(said)].join('; ')
}
