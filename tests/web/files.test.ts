// The web host's file route serves only the project's content folders, and uploads never follow a link.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { callApi, hostRequest, startTestHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

let t: Awaited<ReturnType<typeof startTestHost>>
let dir: string
before(async () => {
  t = await startTestHost()
  dir = join(tempDir(), 'project')
  assert.equal((await callApi(t.host, 'projects.create', { dir, name: 'Files' })).ok, true)
})
after(async () => {
  await t.stop()
})

const auth = () => ({ 'x-leafseg-token': t.host.token })
const fetchFile = (rel: string) => hostRequest(t.host, `/files/${rel}`, { headers: auth() })

test('content folders are served; the database, its journals, imports and everything else are not', async () => {
  mkdirSync(join(dir, 'thumbnails', 'ab'), { recursive: true })
  writeFileSync(join(dir, 'thumbnails', 'ab', 'leaf.png'), 'png bytes')
  const ok = await fetchFile('thumbnails/ab/leaf.png')
  assert.equal(ok.status, 200)
  assert.equal(ok.body, 'png bytes')
  mkdirSync(join(dir, 'imports', 'uploads', 'b1'), { recursive: true })
  writeFileSync(join(dir, 'imports', 'uploads', 'b1', 'x.png'), 'upload')
  writeFileSync(join(dir, 'notes.png'), 'top level')
  for (const rel of [
    'leafseg.sqlite',
    'leafseg.sqlite-wal',
    'leafseg.sqlite-shm',
    'leafseg.sqlite-journal',
    'photos/leafseg.sqlite',
    'imports/uploads/b1/x.png',
    'notes.png',
    'photos%2F..%2Fleafseg.sqlite',
    'photos%2F..%2F..%2Fetc%2Fhostname',
    '%2Fetc%2Fhostname',
    'photos%5C..%5Cleafseg.sqlite',
    'thumbnails'
  ]) {
    assert.equal((await fetchFile(rel)).status, 403, rel)
  }
  // The URL parser itself folds ../ away: what is left names no content folder.
  assert.equal((await fetchFile('thumbnails/../leafseg.sqlite')).status, 403)
  assert.equal((await fetchFile('masks/none.png')).status, 404)
})

test('a symlink or hard link to the database, or a link out of the project, is refused', async () => {
  mkdirSync(join(dir, 'photos', 'cd'), { recursive: true })
  symlinkSync(join(dir, 'leafseg.sqlite'), join(dir, 'photos', 'cd', 'db.png'))
  symlinkSync(join(dir, 'leafseg.sqlite-wal'), join(dir, 'photos', 'cd', 'wal.png'))
  linkSync(join(dir, 'leafseg.sqlite'), join(dir, 'masks', 'hard.png'))
  const outside = join(tempDir(), 'secret.png')
  writeFileSync(outside, 'secret')
  symlinkSync(outside, join(dir, 'masks', 'out.png'))
  symlinkSync(dir, join(dir, 'mattes', 'up')) // a folder link back to the project root
  for (const rel of [
    'photos/cd/db.png',
    'photos/cd/wal.png',
    'masks/hard.png',
    'masks/out.png',
    'mattes/up/leafseg.sqlite',
    'mattes/up/notes.png',
    'mattes/up/thumbnails/ab/leaf.png'
  ]) {
    const res = await fetchFile(rel)
    assert.equal(res.status, 403, rel)
    assert.ok(!res.body.includes('SQLite format'), rel)
  }
})

test('data-loss scenario: the database asked for through links mid-session, then a clean stop keeps every write', async () => {
  // Reproduced before the fix: reading the database (through a link) and its -shm through the file route,
  // then closing those descriptors, dropped this process's POSIX locks on them. Another connection (the
  // job process, a CLI command) then believed it was the last one: on closing it checkpointed and deleted
  // the WAL, and the datasets and job the host wrote afterwards went into a deleted file.
  symlinkSync(join(dir, 'leafseg.sqlite'), join(dir, 'predictions', 'db-link.png'))
  symlinkSync(join(dir, 'leafseg.sqlite-shm'), join(dir, 'predictions', 'shm-link.png'))
  assert.equal((await callApi(t.host, 'datasets.create', { name: 'Before' })).ok, true)
  const statuses = []
  for (const rel of ['predictions/db-link.png', 'predictions/shm-link.png', 'leafseg.sqlite-shm']) statuses.push((await fetchFile(rel)).status)
  const database = join(dir, 'leafseg.sqlite')
  const otherConnection = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(database)}); db.prepare('SELECT count(*) FROM datasets').get(); db.close()`
  execFileSync(process.execPath, ['-e', otherConnection], { cwd: process.cwd() })
  for (const name of ['After 1', 'After 2']) assert.equal((await callApi(t.host, 'datasets.create', { name })).ok, true)
  const job = await callApi(t.host, 'jobs.startDemo', { steps: 3, stepMs: 1 })
  assert.equal(job.ok, true)
  await t.service.requireProject().jobs.wait(job.value.id)
  await t.stop()

  const db = new Database(database, { readonly: true })
  const datasets = (db.prepare('SELECT name FROM datasets ORDER BY id').all() as { name: string }[]).map((d) => d.name)
  const jobs = db.prepare('SELECT status FROM jobs WHERE id = ?').get(job.value.id) as { status: string } | undefined
  db.close()
  assert.deepEqual(datasets, ['Before', 'After 1', 'After 2'])
  assert.equal(jobs?.status, 'succeeded')
  assert.deepEqual(statuses, [403, 403, 403])
  // Reopen the host on the same project for the tests below.
  t = await startTestHost()
  assert.equal((await callApi(t.host, 'projects.open', { dir })).ok, true)
})

test('an upload never follows a symlink planted in uploads/ and is written whole', async () => {
  const outside = tempDir('leafseg-outside-')
  const uploads = join(dir, 'imports', 'uploads')
  const put = (batch: string, path: string, body = 'photo bytes') =>
    hostRequest(t.host, `/upload?batch=${batch}&path=${encodeURIComponent(path)}`, { method: 'PUT', headers: auth(), body })

  // A link to a file that does not exist yet, a linked batch folder, a linked subfolder.
  mkdirSync(join(uploads, 'b2'), { recursive: true })
  symlinkSync(join(outside, 'planted.png'), join(uploads, 'b2', 'leaf.png'))
  symlinkSync(outside, join(uploads, 'b3'))
  mkdirSync(join(uploads, 'b4'))
  symlinkSync(outside, join(uploads, 'b4', 'sub'))
  for (const [batch, path] of [
    ['b2', 'leaf.png'],
    ['b3', 'leaf.png'],
    ['b4', 'sub/leaf.png'],
    ['b5', '../b2/x.png'],
    ['b5', '/etc/x.png']
  ] as const) {
    const res = await put(batch, path)
    assert.equal(res.status, 403, `${batch}/${path}: ${res.body}`)
    assert.equal(JSON.parse(res.body).error.code, 'forbidden')
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the project')

  const ok = await put('b6', 'vines/leaf.png')
  assert.equal(ok.status, 200, ok.body)
  assert.equal(readFileSync(join(uploads, 'b6', 'vines', 'leaf.png'), 'utf8'), 'photo bytes')
  assert.deepEqual(readdirSync(join(uploads, 'b6', 'vines')), ['leaf.png'], 'no temp file left')
  assert.ok(existsSync(JSON.parse(ok.body).value.dir))
})
