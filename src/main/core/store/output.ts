// Files and folders the user names for Leafseg to write (an ONNX export, a CSV, a folder of masks): one check
// for every command and method. An output never lands on a project's own files (its database and journals, its
// photos/, masks/, runs/ … of any project found by walking up from the target), never on something that is not a
// plain file (a device, a pipe, a folder) nor through a symlink at the path, and never over an existing file
// unless the user said so (`--force`, `overwrite: true`). The write itself stays atomic (temp file + rename).
import { existsSync, lstatSync, realpathSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { ApiError } from '../../../shared/errors'
import { writeAtomic } from './atomic'
import { databaseFileName, projectFolders } from '../project'

const databaseFiles = ['', '-wal', '-shm', '-journal'].map((suffix) => databaseFileName + suffix)

/** The real path of `path`'s nearest existing ancestor, joined with the rest: what a write would reach. */
function realTarget(path: string): string {
  let existing = resolve(path)
  const rest: string[] = []
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing))
    existing = dirname(existing)
  }
  return join(realpathSync(existing), ...rest)
}

/** Why `real` is a project's own file or folder (names the project), or null when it is none. */
function projectOwned(real: string): string | null {
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (existsSync(join(dir, databaseFileName))) {
      const parts = relative(dir, real).split(sep)
      if (parts.length === 1 && databaseFiles.includes(parts[0])) return `it is the database of the Leafseg project ${dir}`
      if ((projectFolders as readonly string[]).includes(parts[0])) return `it lies in ${parts[0]}/ of the Leafseg project ${dir}, which only Leafseg writes`
    }
    if (dirname(dir) === dir) return null
  }
}

/**
 * Check a file the user named as an output; returns its absolute path. Refused (naming the path and why): a
 * project's own file, a symlink, anything but a regular file, and an existing file unless `overwrite`.
 */
export function checkOutputFile(path: string, opts: { overwrite?: boolean } = {}): string {
  const abs = resolve(path)
  const refuse = (why: string): never => {
    throw new ApiError('forbidden', `Leafseg will not write ${abs}: ${why}.`)
  }
  const here = lstatSync(abs, { throwIfNoEntry: false })
  if (here?.isSymbolicLink()) refuse('it is a symbolic link (write to the file it points at, or remove the link)')
  if (here && !here.isFile()) refuse(here.isDirectory() ? 'it is a folder' : 'it is not a regular file (a device, a pipe or a socket)')
  const owned = projectOwned(realTarget(abs))
  if (owned) refuse(owned)
  if (here && !opts.overwrite) {
    throw new ApiError('conflict', `${abs} already exists: choose another name, or replace it (--force on the command line, overwrite: true in the API).`)
  }
  return abs
}

/** Check a folder the user named for outputs: a folder (or none yet), not a project's own. Returns its absolute path. */
export function checkOutputFolder(path: string): string {
  const abs = resolve(path)
  const here = lstatSync(abs, { throwIfNoEntry: false })
  if (here && !here.isDirectory() && !here.isSymbolicLink()) throw new ApiError('forbidden', `Leafseg will not write into ${abs}: it is not a folder.`)
  const owned = projectOwned(realTarget(abs))
  // The project folder itself may take outputs; its own sub-folders may not.
  if (owned) throw new ApiError('forbidden', `Leafseg will not write into ${abs}: ${owned}.`)
  return abs
}

/** Write an output file the user named, checked (see checkOutputFile), atomically. */
export async function writeOutputFile(path: string, data: string | Uint8Array, opts: { overwrite?: boolean } = {}): Promise<string> {
  const abs = checkOutputFile(path, opts)
  await writeAtomic(abs, data)
  return abs
}
