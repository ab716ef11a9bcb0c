// The web host's folder browser: what a person may pick in a folder of the server's disk (its sub-folders and
// image files), hidden entries and anything unreadable left out.
import { readdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { FolderListing } from '../../../shared/api/app'
import { ApiError } from '../../../shared/errors'
import { hasImageExtension } from '../datasets/util'

/** At most this many entries of each kind: a folder of 100 000 photos lists its first ones, sorted. */
export const MAX_LISTED = 2000

export async function listFolder(dir: string): Promise<FolderListing> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'ENOTDIR'
          ? 'it is not a folder'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (err as Error).message
    throw new ApiError('not_found', `Cannot list the folder ${dir}: ${why}.`)
  }
  const visible = entries.filter((e) => !e.name.startsWith('.'))
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true })
  const folders = visible
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byName)
    .slice(0, MAX_LISTED)
  const images = visible
    .filter((e) => e.isFile() && hasImageExtension(e.name))
    .map((e) => e.name)
    .sort(byName)
    .slice(0, MAX_LISTED)
  const parent = dirname(dir)
  return { dir, parent: parent === dir ? null : parent, folders, images }
}
