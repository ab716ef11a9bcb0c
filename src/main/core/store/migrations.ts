// Append-only, numbered schema migrations. Never edit one that has shipped: add the next number.
// `PRAGMA user_version` holds the number of the last one applied.
import type Database from 'better-sqlite3'

export interface Migration {
  version: number
  name: string
  up(db: Database.Database): void
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'project metadata and jobs',
    up(db) {
      db.exec(`
        CREATE TABLE project (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          name TEXT NOT NULL,
          created_at TEXT NOT NULL,
          app_version TEXT NOT NULL
        );
        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          title TEXT NOT NULL,
          params TEXT NOT NULL DEFAULT '{}',
          status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
          done INTEGER NOT NULL DEFAULT 0,
          total INTEGER NOT NULL DEFAULT 0,
          message TEXT,
          error TEXT,
          result TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT,
          -- host:pid of the process that runs it, so a restart can tell crashed jobs from live ones
          owner TEXT
        );
        CREATE INDEX jobs_by_status ON jobs(status);
      `)
    }
  }
]

export const latestSchemaVersion = migrations[migrations.length - 1].version
