// Files being written and about to be recorded, listed in the database (table pending_files) so that clean-up in
// any process leaves them alone: a row is added before the file is written and removed only after the record that
// names it is committed (or the write gave up and removed its file). Rows of a writer that died expire.
import type { Db } from './database'

/** A row older than this belongs to a writer that died: clean-up may remove its file. */
export const pendingExpiryMs = 60 * 60_000

/**
 * Run `write` (which writes the files `paths`, project-relative, and records them) with the files listed as being
 * written, so that clean-up does not take them for leftovers between the write and the record.
 */
export async function whileWriting<T>(db: Db, paths: string[], write: () => Promise<T>): Promise<T> {
  const add = db.prepare('INSERT OR REPLACE INTO pending_files (path, pid, started_at) VALUES (?, ?, ?)')
  const startedAt = new Date().toISOString()
  db.transaction(() => {
    for (const path of paths) add.run(path, process.pid, startedAt)
  })()
  try {
    return await write()
  } finally {
    const remove = db.prepare('DELETE FROM pending_files WHERE path = ?')
    db.transaction(() => {
      for (const path of paths) remove.run(path)
    })()
  }
}

/** The files being written now (project-relative); rows older than pendingExpiryMs are left out. */
export function pendingFiles(db: Db, now = Date.now()): Set<string> {
  const since = new Date(now - pendingExpiryMs).toISOString()
  return new Set((db.prepare('SELECT path FROM pending_files WHERE started_at >= ?').all(since) as { path: string }[]).map((r) => r.path))
}

/** Forget rows of writers that died (older than pendingExpiryMs). */
export function dropExpiredPending(db: Db, now = Date.now()): void {
  db.prepare('DELETE FROM pending_files WHERE started_at < ?').run(new Date(now - pendingExpiryMs).toISOString())
}
