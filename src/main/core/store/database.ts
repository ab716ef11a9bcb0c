// Opening a project's SQLite file: WAL, foreign keys, migrations in one transaction each.
import Database from 'better-sqlite3'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { ApiError } from '../../../shared/errors'
import { latestSchemaVersion, migrations } from './migrations'
import { sqliteBinding } from './native'

export type Db = Database.Database

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

/** Apply the migrations above the database's version, up to `target` (tests stop early to build old schemas). */
export function migrate(db: Db, target = latestSchemaVersion): void {
  for (const m of migrations) {
    if (m.version <= schemaVersion(db) || m.version > target) continue
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    })()
  }
}

/**
 * Open (and migrate) a project database. A database written by a newer Leafseg is refused
 * before anything is changed. `readOnly` opens it to be looked at only (a full or read-only disk): no migration.
 */
export function openDatabase(file: string, options: { create: boolean; readOnly?: boolean }): Db {
  const db = options.readOnly ? openReadOnly(file) : new Database(file, { fileMustExist: !options.create, nativeBinding: sqliteBinding() })
  try {
    const version = schemaVersion(db)
    if (version > latestSchemaVersion) {
      throw new ApiError(
        'project_too_new',
        `${file} was written by a newer version of Leafseg (schema ${version}; this version knows up to ${latestSchemaVersion}). Update Leafseg to open it; nothing was changed.`
      )
    }
    if (options.readOnly) {
      db.pragma('query_only = ON') // a write is refused with SQLITE_READONLY, whichever way it was opened
      if (version < latestSchemaVersion) {
        throw new ApiError(
          'io',
          `${file} needs upgrading to this version of Leafseg, which cannot be done while it can only be read. Free some space (or make the folder writable) and open it again.`
        )
      }
      return db
    }
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 10000')
    migrate(db)
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

/**
 * Open to read only. A database in WAL mode needs its `-shm` index, which cannot be made on a full disk; when
 * there is none and no unsaved journal either (it was closed cleanly), its file alone is the whole database,
 * so it is read into memory instead (marked as not in WAL mode there).
 */
function openReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true, nativeBinding: sqliteBinding() })
  try {
    schemaVersion(db)
    return db
  } catch (err) {
    db.close()
    const wal = `${file}-wal`
    if (existsSync(wal) && statSync(wal).size > 0) throw err
    const bytes = readFileSync(file)
    if (bytes.length > 19) bytes[18] = bytes[19] = 1 // file format: rollback journal, not WAL
    return new Database(bytes, { nativeBinding: sqliteBinding() })
  }
}
