// Running `leafseg` as a person does: a real process, with its own user-data folder and one wasm thread.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tempDir } from './temp'

export const cliEntry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
export const cliEnv = { ...process.env, LEAFSEG_USER_DATA: tempDir() }

export function leafseg(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return leafsegWith({}, ...args)
}

/** Run with extra environment variables. */
export function leafsegWith(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cliEntry, ...args], { encoding: 'utf8', env: { ...cliEnv, ...env }, timeout: 180_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Run with --json; it must succeed, and its summary is returned. */
export function leafsegJson<T>(...args: string[]): T {
  const r = leafseg(...args, '--json')
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as T
}
