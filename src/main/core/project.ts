// A project is a folder: leafseg.sqlite plus the folders the app writes. Copying the folder moves the project.
import { existsSync, mkdirSync, readdirSync, statSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ApiError } from '../../shared/errors'
import type { ProjectInfo } from '../../shared/domain'
import { appVersion } from '../../shared/version'
import { openDatabase, schemaVersion, type Db } from './store/database'
import { freeBytes, isDiskFull } from './store/errors'
import { formatBytes } from '../../shared/format'
import { removeTempLeftovers } from './store/temp'

export const databaseFileName = 'leafseg.sqlite'

/** Folders the app writes inside a project. Photos are copied in, so a project is self-contained. */
export const projectFolders = ['photos', 'thumbnails', 'masks', 'trimaps', 'mattes', 'runs', 'predictions', 'imports', 'strokes', 'classifiers'] as const
export type ProjectFolder = (typeof projectFolders)[number]

export class Project {
  constructor(
    readonly dir: string,
    readonly db: Db,
    /** Why the project was opened read-only (a full disk, a read-only disk); null when it may be changed. */
    readonly readOnlyReason: string | null = null
  ) {}

  info(): ProjectInfo {
    const row = this.db.prepare('SELECT name, created_at AS createdAt FROM project WHERE id = 1').get() as { name: string; createdAt: string } | undefined
    if (!row) throw new ApiError('not_a_project', `${this.dir} has a Leafseg database without project details.`)
    return {
      dir: this.dir,
      name: row.name,
      createdAt: row.createdAt,
      schemaVersion: schemaVersion(this.db),
      readOnly: this.readOnlyReason !== null,
      readOnlyReason: this.readOnlyReason
    }
  }

  /** Absolute path of a file inside one of the project's folders. */
  path(folder: ProjectFolder, ...parts: string[]): string {
    return join(this.dir, folder, ...parts)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

function ensureFolders(dir: string): void {
  for (const f of projectFolders) mkdirSync(join(dir, f), { recursive: true })
}

export function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, databaseFileName))
}

export function createProject(dirArg: string, name: string): Project {
  const dir = resolve(dirArg)
  const trimmed = name.trim()
  if (!trimmed) throw new ApiError('invalid_argument', 'A project needs a name.')
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ApiError('conflict', `${dir} is a file, not a folder. Pick a folder for the project.`)
  }
  if (isProjectDir(dir)) {
    throw new ApiError('conflict', `${dir} already holds a Leafseg project. Open it instead, or pick another folder.`)
  }
  const existed = existsSync(dir)
  mkdirSync(dir, { recursive: true })
  let db: Db | undefined
  try {
    db = openDatabase(join(dir, databaseFileName), { create: true })
    db.prepare('INSERT INTO project (id, name, created_at, app_version) VALUES (1, ?, ?, ?)').run(trimmed, new Date().toISOString(), appVersion)
    ensureFolders(dir)
    return new Project(dir, db)
  } catch (err) {
    // Leave nothing half-made behind: remove the database (and the folder if we created it).
    db?.close()
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, databaseFileName + suffix), { force: true })
    if (!existed && readdirSync(dir).every((f) => (projectFolders as readonly string[]).includes(f))) {
      rmSync(dir, { recursive: true, force: true })
    }
    throw err
  }
}

/** Below this much free space a project opens read-only: a write could stop half-way. */
const minFreeBytes = 1_000_000

/** Why a project that failed to open read-write (or sits on a full disk) can still be opened read-only; null when not. */
function readOnlyReasonFor(dir: string, err: unknown): string | null {
  const free = freeBytes(dir)
  if (isDiskFull(err) || (err === null && free !== null && free < minFreeBytes)) {
    return `the disk holding it is full (${formatBytes(free ?? 0)} free). Free some space, then open it again to make changes`
  }
  if (err === null) return null
  const code = (err as { code?: string }).code ?? ''
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'EROFS' || code === 'EACCES') {
    return 'its database cannot be written (a read-only disk or folder, or a disk error)'
  }
  return null
}

export function openProject(dirArg: string): Project {
  const dir = resolve(dirArg)
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ApiError('not_a_project', `${dir} is a file, not a folder: a Leafseg project is a folder holding ${databaseFileName}. Pick its folder instead.`)
  }
  if (!existsSync(dir)) {
    throw new ApiError('not_found', `The folder ${dir} does not exist (was it moved or renamed?).`)
  }
  if (!isProjectDir(dir)) {
    throw new ApiError('not_a_project', `${dir} is not a Leafseg project: it has no ${databaseFileName}. Create a project there first.`)
  }
  const file = join(dir, databaseFileName)
  let db: Db
  let readOnlyReason = readOnlyReasonFor(dir, null)
  try {
    db = readOnlyReason ? openDatabase(file, { create: false, readOnly: true }) : openDatabase(file, { create: false })
  } catch (err) {
    if (err instanceof ApiError) throw err
    readOnlyReason ??= readOnlyReasonFor(dir, err)
    if (!readOnlyReason) throw new ApiError('not_a_project', `${file} is not a readable Leafseg database: ${(err as Error).message}`)
    try {
      db = openDatabase(file, { create: false, readOnly: true })
    } catch (again) {
      if (again instanceof ApiError) throw again
      throw new ApiError('io', `${file} cannot be opened, not even to be looked at: ${readOnlyReason} (${(again as Error).message}).`)
    }
  }
  const project = new Project(dir, db, readOnlyReason)
  try {
    project.info()
    if (!readOnlyReason) {
      ensureFolders(dir)
      removeTempLeftovers(dir)
    }
  } catch (err) {
    project.close()
    throw err
  }
  return project
}
