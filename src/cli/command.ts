// What every CLI command is: a name, help text, typed options, and a run function.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  name: string
  summary: string
  usage: string
  options: Options
  /** Lines of help about the options, shown by --help. */
  help: string[]
  run(args: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[]; json: boolean }): Promise<unknown>
}

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
