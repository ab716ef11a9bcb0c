// The one place where failures from SQLite and the file system become the API's typed errors with plain
// messages: the service's dispatch and the job process both use it, so "the disk is full" reads the same
// wherever it happens and no raw `ENOSPC: … copyfile …` reaches a person.
import { statfsSync } from 'node:fs'
import { ApiError, isApiErrorShape, type ApiErrorShape } from '../../../shared/errors'
import { formatBytes } from '../../../shared/format'
import { targetOfTemp } from './temp'

export interface FailureContext {
  /** The open project's folder: a full disk is reported with the space left there. */
  projectDir?: string
  /** Why the project is open read-only, when it is: a refused write says so. */
  readOnlyReason?: string | null
}

/** Free bytes on the disk holding `dir` (null when it cannot be told). */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir)
    return Number(s.bavail) * Number(s.bsize)
  } catch {
    return null
  }
}

const sqliteCode = (err: unknown): string | null => {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null
}

/** The first errno- or SQLite-coded error in an error's cause chain (wrappers keep the original as `cause`). */
function codedError(err: unknown): (NodeJS.ErrnoException & { dest?: string }) | null {
  for (let e = err as (NodeJS.ErrnoException & { cause?: unknown }) | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e
  }
  return null
}

/** True when `err` (or what it wraps) says the disk is full. */
export function isDiskFull(err: unknown): boolean {
  const code = codedError(err)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true
  const message = typeof err === 'string' ? err : err instanceof Error ? err.message : isApiErrorShape(err) ? err.message : ''
  return /ENOSPC|no space left on device|database or disk is full|disk is full/i.test(message)
}

/** "The disk is full …" with what is free and, when known, how much the step needs. */
export function diskFullMessage(what: string, dir: string | undefined, neededBytes?: number): string {
  const free = dir ? freeBytes(dir) : null
  const needs = neededBytes !== undefined && neededBytes > 0 ? ` It needs about ${formatBytes(neededBytes)}` : ''
  const has = free !== null ? `${needs ? ';' : ''} ${formatBytes(free)} ${needs ? 'are' : 'is'} free${dir ? ` on the disk holding ${dir}` : ''}` : ''
  return `The disk is full: ${what}.${needs}${has}${needs || has ? '.' : ''} Free some space and try again; what was saved before is unchanged.`
}

/** Wrap a disk-full failure of a step with how much space the step needs; other errors pass through. */
export function withSpaceNeeded(err: unknown, what: string, dir: string, neededBytes: number): unknown {
  return isDiskFull(err) ? new ApiError('io', diskFullMessage(what, dir, neededBytes)) : err
}

/** Any thrown value → the API's error shape with a message a person can act on. */
/** Longest message an error carries: one that quotes its input (a huge JSON, a long list) is cut, saying so. */
export const maxMessageLength = 2000

export function boundedMessage(message: string): string {
  return message.length <= maxMessageLength ? message : `${message.slice(0, maxMessageLength - 40)}… (${message.length} characters, cut short)`
}

export function toErrorShape(err: unknown, context: FailureContext = {}): ApiErrorShape {
  const shape = errorShape(err, context)
  return { code: shape.code, message: boundedMessage(shape.message) }
}

function errorShape(err: unknown, context: FailureContext): ApiErrorShape {
  // A plain { code, message } is an API error that crossed a process boundary; an Error with a code is a system one.
  if (err instanceof ApiError || (isApiErrorShape(err) && !(err instanceof Error))) return { code: err.code, message: err.message }
  const coded = codedError(err)
  const code = coded?.code
  const file = coded?.path ? ` ${targetOfTemp(coded.dest ?? coded.path)}` : ''
  const sqlite = sqliteCode(coded)
  if (isDiskFull(err)) {
    return {
      code: 'io',
      message: diskFullMessage(sqlite ? 'the project database could not be saved' : `the file${file || 's'} could not be written`, context.projectDir)
    }
  }
  if (sqlite?.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    const why = context.readOnlyReason
      ? `This project is open read-only: ${context.readOnlyReason}`
      : `The ${sqlite ? 'project database' : `file${file}`} is on a read-only disk or may not be written`
    return { code: 'forbidden', message: `${why}. Nothing was changed.` }
  }
  if (sqlite === 'SQLITE_BUSY' || sqlite === 'SQLITE_LOCKED' || sqlite?.startsWith('SQLITE_BUSY')) {
    return { code: 'conflict', message: 'The project database is busy (another Leafseg window or program is writing to it). Try again in a moment.' }
  }
  if (sqlite === 'SQLITE_CORRUPT' || sqlite === 'SQLITE_NOTADB') {
    return { code: 'io', message: 'The project database is damaged. Restore the project folder from a backup.' }
  }
  if (sqlite?.startsWith('SQLITE_IOERR') || sqlite === 'SQLITE_CANTOPEN') {
    return {
      code: 'io',
      message: 'Reading or writing the project database failed (a disk error, or the disk was removed). Check the disk and open the project again.'
    }
  }
  if (code === 'EACCES' || code === 'EPERM')
    return { code: 'forbidden', message: `Permission denied: Leafseg may not ${file ? `use${file}` : 'use that file'}. Check its permissions.` }
  if (code === 'ENOENT')
    return {
      code: 'not_found',
      message: file ? `${file.trim()} does not exist (was it moved or deleted?).` : 'A file Leafseg needs does not exist (was it moved or deleted?).'
    }
  if (code === 'EISDIR') return { code: 'bad_input', message: `${file.trim() || 'That path'} is a folder, not a file.` }
  if (code === 'ENOTDIR') return { code: 'bad_input', message: `${file.trim() || 'That path'} is a file, not a folder.` }
  if (code === 'EMFILE' || code === 'ENFILE') return { code: 'io', message: 'Too many files are open at once; close other programs and try again.' }
  if (code === 'EIO') return { code: 'io', message: `A disk error happened while using${file || ' a file'}. Check the disk.` }
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) }
}
