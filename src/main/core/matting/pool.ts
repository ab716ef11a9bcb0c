// Batch matting on two cores: photos go one at a time to whichever is free, this process or a helper
// process (matte-process.ts; matte-process.js in the Electron bundle, run by Electron as plain Node).
import { errorMessage } from '../../../shared/errors'
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus } from 'node:os'
import { matteFile, type MatteFileResult, type MatteItem } from './files'

function helperEntry(): { path: string; execArgv: string[]; env: NodeJS.ProcessEnv } | null {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) return { path: join(dirname(here), 'matte-process.ts'), execArgv: ['--import', import.meta.resolve('tsx')], env: process.env }
  // Bundled: this code sits in out/main/ or out/main/chunks/, the helper entry in out/main/.
  for (const dir of [dirname(here), dirname(dirname(here))]) {
    const path = join(dir, 'matte-process.js')
    if (existsSync(path)) return { path, execArgv: [], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }
  }
  return null
}

export interface MatteOutcome {
  item: MatteItem
  /** Which process matted it: this one, or the helper on the second core. */
  by: 'this process' | 'helper'
  result?: MatteFileResult
  error?: string
}

/**
 * Matte every item, two at a time when the machine has a second core. Results arrive in completion order
 * through `onDone`, which records them; an abort stops handing out photos and ends the helper process.
 */
export async function matteOnCores(items: MatteItem[], signal: AbortSignal, onDone: (o: MatteOutcome) => void | Promise<void>): Promise<void> {
  const entry = cpus().length > 1 && items.length > 1 ? helperEntry() : null
  let helper: ChildProcess | null = null
  const queue = [...items]
  const take = (): MatteItem | undefined => (signal.aborted ? undefined : queue.shift())

  const local = async (): Promise<void> => {
    for (let item = take(); item; item = take()) {
      // Let the helper's messages through between photos (matting one photo holds this thread).
      await new Promise((r) => setImmediate(r))
      try {
        await onDone({ item, by: 'this process', result: await matteFile(item, { signal }) })
      } catch (err) {
        if (signal.aborted) throw err
        await onDone({ item, by: 'this process', error: errorMessage(err) })
      }
    }
  }

  const remote = async (): Promise<void> => {
    if (!entry) return
    const child = fork(entry.path, [], { execArgv: entry.execArgv, env: entry.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    helper = child
    const replies = new Map<number, (m: { result?: MatteFileResult; error?: string }) => void>()
    child.on('message', (m: { id: number; result?: MatteFileResult; error?: string }) => replies.get(m.id)?.(m))
    const exited = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error('the matting helper process stopped'))))
    exited.catch(() => {})
    let lastId = 0
    const send = (item: MatteItem) =>
      new Promise<{ result?: MatteFileResult; error?: string }>((resolve) => {
        const id = ++lastId
        replies.set(id, (m) => {
          replies.delete(id)
          resolve(m)
        })
        child.send({ id, item })
      })
    let item = take()
    try {
      for (; item; item = take()) await onDone({ item, by: 'helper', ...(await Promise.race([send(item), exited])) })
    } catch {
      // The helper stopped (cancel, or out of memory): its photo goes back for this process to do.
      if (item && !signal.aborted) queue.unshift(item)
    } finally {
      child.kill()
    }
  }

  const onAbort = () => (helper as ChildProcess | null)?.kill()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await Promise.all([local(), remote()])
    await local() // whatever a stopped helper handed back
    signal.throwIfAborted()
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
