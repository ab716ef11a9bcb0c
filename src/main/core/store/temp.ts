// One naming convention for files and folders being written: a write goes to a temp name beside its target,
// then is renamed into place, so a crash leaves the old file or none — plus a temp file, which carries the
// writer's process id so that the next open can tell an abandoned one (its process is gone) from one in use.
//
//   file:   .<name>.tmp-<pid>-<random>      (tempPathFor)
//   folder: <name>.tmp-<pid>                (tempFolderFor, e.g. runs/3/last.tmp-1234 while a checkpoint is saved)
import { randomBytes } from 'node:crypto'
import { readdirSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Where to write `path` before renaming it into place. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** Where to fill a folder before renaming it into place. */
export function tempFolderFor(dir: string): string {
  return `${dir}.tmp-${process.pid}`
}

// The convention above, and the names older versions used (`.x.png.1234.1700000000000.tmp`, `x.png.1234.tmp`).
const tempName = /\.tmp-(\d+)(?:-[0-9a-f]+)?$|\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/

/** The process id in a temp name, or null when the name is not one. */
export function tempOwner(name: string): number | null {
  const m = tempName.exec(name)
  return m ? Number(m[1] ?? m[2]) : null
}

/** The file a temp path stands for (`.x.png.tmp-12-ab` → `x.png`), so messages name what the person knows. */
export function targetOfTemp(path: string): string {
  const m = /^(.*\/)?\.(.+)\.tmp-\d+-[0-9a-f]+$/.exec(path)
  return m ? `${m[1] ?? ''}${m[2]}` : path
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // alive, but another user's
  }
}

/** Temp files and folders under `dir` whose writing process is gone (abandoned by a crash or a kill). */
export function findTempLeftovers(dir: string): string[] {
  const found: string[] = []
  const walk = (folder: string): void => {
    let entries
    try {
      entries = readdirSync(folder, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const path = join(folder, e.name)
      const owner = tempOwner(e.name)
      if (owner !== null && !processAlive(owner)) found.push(path)
      else if (e.isDirectory()) walk(path)
    }
  }
  walk(dir)
  return found.sort()
}

/** Remove abandoned temp files and folders under `dir` (done when a project opens); returns what was removed. */
export function removeTempLeftovers(dir: string): string[] {
  const found = findTempLeftovers(dir)
  for (const path of found) rmSync(path, { recursive: true, force: true })
  return found
}
