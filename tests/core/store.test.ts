import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createProject, openProject, databaseFileName, projectFolders } from '../../src/main/core/project'
import { migrate, openDatabase, schemaVersion } from '../../src/main/core/store/database'
import { latestSchemaVersion, migrations } from '../../src/main/core/store/migrations'
import { RecentProjects } from '../../src/main/core/recent'
import { appVersion } from '../../src/shared/version'
import { tempDir } from '../helpers/temp'

test('migrations are numbered 1..N without gaps', () => {
  assert.deepEqual(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1)
  )
})

test('an empty database migrates to the latest schema with WAL and foreign keys on', () => {
  const db = openDatabase(join(tempDir(), 'x.sqlite'), { create: true })
  assert.equal(schemaVersion(db), latestSchemaVersion)
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1)
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`)
    .all()
    .map((r) => (r as { name: string }).name)
  assert.ok(tables.includes('jobs') && tables.includes('project'))
  db.close()
})

for (let version = 1; version < latestSchemaVersion; version++) {
  test(`a database at schema ${version} opens and migrates to ${latestSchemaVersion}`, () => {
    const dir = tempDir()
    const file = join(dir, databaseFileName)
    const old = new Database(file)
    migrate(old, version)
    assert.equal(schemaVersion(old), version)
    old.prepare(`INSERT INTO project (id, name, created_at, app_version) VALUES (1, 'old', '2025-01-01T00:00:00Z', '0.0.1')`).run()
    old.close()
    const project = openProject(dir)
    assert.equal(project.info().schemaVersion, latestSchemaVersion)
    assert.equal(project.info().name, 'old')
    project.close()
  })
}

test('a project is created with its folders and reopens', () => {
  const dir = join(tempDir(), 'vines')
  const p = createProject(dir, '  Vines 2026 ')
  assert.equal(p.info().name, 'Vines 2026')
  for (const f of projectFolders) assert.ok(existsSync(join(dir, f)), f)
  p.close()
  const again = openProject(dir)
  assert.equal(again.info().name, 'Vines 2026')
  again.close()
})

test('creating a project where one exists is refused', () => {
  const dir = tempDir()
  createProject(dir, 'A').close()
  assert.throws(() => createProject(dir, 'B'), { code: 'conflict' })
  const p = openProject(dir)
  assert.equal(p.info().name, 'A')
  p.close()
})

test('a folder that is not a project is refused and left untouched', () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'photo.jpg'), 'x')
  assert.throws(
    () => openProject(dir),
    (err: Error & { code?: string }) => err.code === 'not_a_project' && err.message.includes(dir)
  )
  assert.ok(!existsSync(join(dir, databaseFileName)))
  assert.ok(!existsSync(join(dir, 'masks')))
  assert.throws(() => openProject(join(dir, 'missing')), { code: 'not_found' })
})

test('a project path that is a file is called a file, not a missing folder', () => {
  const file = join(tempDir(), 'leafseg.sqlite')
  writeFileSync(file, 'x')
  assert.throws(
    () => openProject(file),
    (err: Error & { code?: string }) => err.code === 'not_a_project' && err.message.startsWith(`${file} is a file, not a folder`)
  )
})

test('a corrupt database file gives a clear message', () => {
  const dir = tempDir()
  writeFileSync(join(dir, databaseFileName), 'this is not SQLite at all, just text that is long enough to be a header')
  assert.throws(
    () => openProject(dir),
    (err: Error & { code?: string }) => err.code === 'not_a_project' && /not a readable Leafseg database/.test(err.message)
  )
})

test('a database from a newer Leafseg is refused and not changed', () => {
  const dir = tempDir()
  createProject(dir, 'Future').close()
  const file = join(dir, databaseFileName)
  const db = new Database(file)
  db.pragma(`user_version = ${latestSchemaVersion + 5}`)
  db.pragma('journal_mode = DELETE')
  db.close()
  const before = readFileSync(file)
  assert.throws(
    () => openProject(dir),
    (err: Error & { code?: string }) => err.code === 'project_too_new' && /newer version of Leafseg/.test(err.message)
  )
  assert.deepEqual(readFileSync(file), before)
  assert.ok(!existsSync(`${file}-wal`))
})

test('recent projects: newest first, no duplicates, missing folders flagged, forgettable', () => {
  const userData = tempDir()
  const recent = new RecentProjects(userData)
  const a = tempDir()
  const b = tempDir()
  createProject(a, 'A').close()
  createProject(b, 'B').close()
  recent.remember(a, 'A')
  recent.remember(b, 'B')
  recent.remember(a, 'A')
  assert.deepEqual(
    recent.list().map((p) => p.name),
    ['A', 'B']
  )
  recent.remember(join(a, 'gone'), 'Gone')
  assert.equal(new RecentProjects(userData).list().find((p) => p.name === 'Gone')?.available, false)
  recent.forget(join(a, 'gone'))
  assert.equal(recent.list().length, 2)
  mkdirSync(join(userData, 'sub'))
  writeFileSync(join(userData, 'recent-projects.json'), '{broken')
  assert.deepEqual(new RecentProjects(userData).list(), [])
})

test('the app version matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  assert.equal(appVersion, pkg.version)
})

test("migration 9: datasets on the seed's trimap values fit the leaves from now on; chosen values stay fixed", () => {
  const dir = tempDir()
  const old = new Database(join(dir, databaseFileName))
  migrate(old, 8)
  old.prepare(`INSERT INTO project (id, name, created_at, app_version) VALUES (1, 'old', '2025-01-01T00:00:00Z', '0.0.1')`).run()
  const add = old.prepare('INSERT INTO datasets (name, created_at, trimap_kernel, trimap_fg_iterations, trimap_bg_iterations) VALUES (?, ?, ?, ?, ?)')
  add.run('seed values', '2025-01-01T00:00:00Z', 5, 5, 5)
  add.run('chosen', '2025-01-01T00:00:00Z', 3, 2, 4)
  old.close()
  const project = openProject(dir)
  const modes = project.db.prepare('SELECT name, trimap_mode FROM datasets ORDER BY id').all()
  assert.deepEqual(modes, [
    { name: 'seed values', trimap_mode: 'auto' },
    { name: 'chosen', trimap_mode: 'fixed' }
  ])
  project.close()
})
