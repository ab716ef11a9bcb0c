// Which file system paths a renderer may name: inside the open project, or inside a folder the user chose;
// which project files a renderer may read; where a browser's dropped files may be written.
import { extname, isAbsolute, join, resolve, sep } from 'node:path'
import { lstatSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs'
import { ApiError } from '../../../shared/errors'
import { databaseFileName, type ProjectFolder } from '../project'

function canonical(p: string): string {
  try {
    return realpathSync(resolve(p))
  } catch {
    return resolve(p)
  }
}

function under(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep)
}

export function isInside(child: string, parent: string): boolean {
  return under(canonical(child), canonical(parent))
}

export class ChosenFolders {
  private readonly roots = new Set<string>()
  private readonly drops = new Set<string>()

  /** Remember a folder the user chose (a dialog's answer, a dropped folder, a path typed in the web host). */
  add(dir: string): void {
    this.roots.add(canonical(dir))
  }

  /**
   * A path the host vouches came from a real drop (Electron: the preload registers the path of a real
   * `File` at the moment it reads it). `files.dropped` accepts only paths registered here.
   */
  registerDrop(path: string): void {
    this.drops.add(resolve(path))
  }

  /** Whether `path` was registered as dropped; it becomes a chosen folder. */
  acceptDrop(path: string): boolean {
    const abs = resolve(path)
    if (!this.drops.delete(abs)) return false
    this.add(abs)
    return true
  }

  /** Throws unless `path` is inside one of `extraRoots` (the open project) or a chosen folder. */
  check(path: string, extraRoots: string[] = []): string {
    const abs = resolve(path)
    if ([...extraRoots, ...this.roots].some((root) => isInside(abs, root))) return abs
    throw new ApiError('forbidden', `Leafseg may only use files inside the project or a folder you chose; ${abs} is neither.`)
  }
}

/**
 * The project folders whose files the UI shows (thumbnails, photos, masks, trimaps, mattes, run and
 * evaluation images, predictions). Never the database, its journals, imports or anything else.
 */
export const servedFolders: readonly ProjectFolder[] = ['photos', 'thumbnails', 'masks', 'trimaps', 'mattes', 'runs', 'predictions']

/**
 * The kinds of file the views show: photos (as imported), thumbnails, masks, trimaps, mattes, predicted masks and
 * probabilities. Weights, optimizer state, JSON and CSV files under runs/ and predictions/ are never served.
 */
const shownExtensions = new Set(['.png', '.webp', '.jpg', '.jpeg', '.jpe', '.jfif', '.bmp', '.dib', '.tif', '.tiff'])

/** The database and the journal files SQLite keeps beside it. */
const databaseFiles = ['', '-wal', '-shm', '-journal'].map((suffix) => databaseFileName + suffix)

/** The parts of a relative path a renderer sent, or null when it is absolute or climbs out (`..`, `.`, empty parts). */
function relativeParts(relativePath: string): string[] | null {
  if (!relativePath || relativePath.includes('\0') || isAbsolute(relativePath) || /^[A-Za-z]:/.test(relativePath)) return null
  const parts = relativePath.split(/[/\\]/)
  return parts.every((p) => p !== '' && p !== '.' && p !== '..') ? parts : null
}

/** A percent-encoded URL part (a file route's path), or null when its encoding is broken (`%E0%A4%A`). */
export function decodedUrlPart(part: string): string | null {
  try {
    return decodeURIComponent(part)
  } catch {
    return null
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino
}

/**
 * The real path of a project file a renderer may read (`thumbnails/ab/ab….webp`). One check for every host:
 * the first folder must be a served folder, the file a picture by its extension (asked for and real), the file's real
 * path (symlinks resolved) must lie inside that folder of the real project, and it must not be the database or a
 * journal by name or by inode (a hard link). Reading the database through another descriptor and closing it drops SQLite's POSIX locks.
 */
export function servableProjectFile(projectDir: string, relativePath: string): string {
  const forbidden = new ApiError('forbidden', `${relativePath} is not a file Leafseg shows.`)
  const parts = relativeParts(relativePath)
  if (!parts || parts.length < 2 || !(servedFolders as readonly string[]).includes(parts[0])) throw forbidden
  if (parts[parts.length - 1].startsWith(databaseFileName) || !shownExtensions.has(extname(relativePath).toLowerCase())) throw forbidden
  const realProject = canonical(projectDir)
  let real: string
  let stats: Stats
  try {
    real = realpathSync(join(projectDir, ...parts))
    stats = statSync(real)
  } catch {
    throw new ApiError('not_found', `${relativePath} is missing from the project.`)
  }
  if (!under(real, join(realProject, parts[0])) || !stats.isFile() || !shownExtensions.has(extname(real).toLowerCase())) throw forbidden
  for (const name of databaseFiles) {
    const db = statSync(join(realProject, name), { throwIfNoEntry: false })
    if (db && sameFile(db, stats)) throw forbidden
  }
  return real
}

/**
 * Where a file dropped in a browser is written before import: `<uploads>/<batch>/<relative path>`. The
 * folders on the way are made here, one by one, and none of them may be a symlink or lead out of the
 * project, so a planted link cannot redirect the write. The caller writes a new temp file beside `file`
 * (exclusive create, which never follows a link) and renames it over `file`.
 */
export function prepareUpload(projectDir: string, batch: string, relativePath: string): { dir: string; file: string } {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(batch)) throw new ApiError('invalid_argument', 'Bad upload batch name.')
  const parts = relativeParts(relativePath)
  if (!parts) throw new ApiError('forbidden', `The dropped file name ${relativePath} is not allowed.`)
  const refuse = (path: string, why: string): never => {
    throw new ApiError('forbidden', `Cannot store the dropped file ${relativePath}: ${path} ${why}.`)
  }
  const realProject = canonical(projectDir)
  let folder = realProject
  // imports/, imports/uploads/, the batch and the file's own folders: each a real folder, made if missing.
  for (const name of ['imports', 'uploads', batch, ...parts.slice(0, -1)]) {
    folder = join(folder, name)
    let st = lstatSync(folder, { throwIfNoEntry: false })
    if (!st) {
      try {
        mkdirSync(folder) // never recursive: a recursive make would follow a link on the way
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err // made by a parallel upload: checked below
      }
      st = lstatSync(folder)
    }
    if (st.isSymbolicLink()) refuse(folder, 'is a symbolic link')
    if (!st.isDirectory()) refuse(folder, 'is not a folder')
  }
  const file = join(folder, parts[parts.length - 1])
  const existing = lstatSync(file, { throwIfNoEntry: false })
  if (existing && !existing.isFile()) refuse(file, existing.isSymbolicLink() ? 'is a symbolic link' : 'is not a file')
  if (!under(realpathSync(folder), realProject)) refuse(folder, 'lies outside the project')
  return { dir: join(realProject, 'imports', 'uploads', batch), file }
}
