// The one way Leafseg writes a file: under a temp name beside it (store/temp's convention), then renamed into place,
// so a crash, a cancel or a full disk leaves the old file or none, never half of one. A failed write removes its temp
// file, and its error names the file (the system error stays as `cause`, so a full disk still reads as one).
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import { tempPathFor } from './temp'

/** What goes into the file: its bytes or text, or a function that writes the temp path it is given (a copy, an encoder, a stream). */
export type AtomicContent = string | Uint8Array | ((tmp: string) => Promise<unknown>)

/** Write `path` atomically. `what` is how an error names it (default: its path). */
export async function writeAtomic(path: string, content: AtomicContent, what = path): Promise<void> {
  const tmp = tempPathFor(path)
  try {
    if (typeof content === 'function') await content(tmp)
    else await writeFile(tmp, content)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw writeError(path, what, err)
  }
}

/** writeAtomic for callers that must not yield (a read-modify-write of a small file that another call could interleave). */
export function writeAtomicSync(path: string, content: string | Uint8Array, what = path): void {
  const tmp = tempPathFor(path)
  try {
    writeFileSync(tmp, content)
    renameSync(tmp, path)
  } catch (err) {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // the temp file stays for the next open's clean-up, which knows its name
    }
    throw writeError(path, what, err)
  }
}

/**
 * "Cannot write <what>: <why>". It carries the system error's code with the file's own path, so store/errors names
 * the file even where the system error names none (a write that fills the disk) or names the temp file.
 */
function writeError(path: string, what: string, err: unknown): Error {
  const error = new Error(`Cannot write ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? Object.assign(error, { code, path }) : error
}
