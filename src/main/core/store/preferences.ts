// What the views last used, kept in the project (table preferences: one JSON value a key), so that closing and
// reopening the project finds them again. A value that no longer parses reads as missing: the views fall back to
// their defaults.
import type { Db } from './database'

/** The stored value of `key` (parsed JSON), or undefined when there is none or it does not parse. */
export function readPreference(db: Db, key: string): unknown {
  const row = db.prepare('SELECT value FROM preferences WHERE key = ?').get(key) as { value: string } | undefined
  if (!row) return undefined
  try {
    return JSON.parse(row.value) as unknown
  } catch {
    return undefined
  }
}

/** Store `value` (JSON) under `key`, replacing what was there. */
export function writePreference(db: Db, key: string, value: unknown): void {
  db.prepare('INSERT INTO preferences (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value))
}
