// Saves of one photo that race each other, readers and clean-up: the record never names a missing file, a save
// that names an old version is refused with 'conflict', labels.mask never fails mid-save, and clean-up (in this
// process or another) never removes a mask being saved.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import Database from 'better-sqlite3'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { ApiMethod, ApiArgs, ApiResult } from '../../src/shared/api'
import { encodeLeaves, encodeRle, type Rle } from '../../src/shared/rle'
import { databaseFileName, openProject } from '../../src/main/core/project'
import { migrate } from '../../src/main/core/store/database'
import { tempDir } from '../helpers/temp'
import { leafPhoto, writeLeafPhoto } from '../helpers/leaf-photo'

const W = 400
const H = 300
let service: LeafsegService
let projectDir: string
let photoId: number

async function call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
  const r = await dispatch(service, method, args)
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value as ApiResult<M>
}

/** A mask of `n` vertical stripes of leaf, each its own leaf; `shift` moves them so two masks differ. */
function striped(n: number, shift: number): { mask: Rle; leaves: Rle[] } {
  const ids = new Uint16Array(W * H)
  const band = Math.floor(W / (2 * n))
  for (let y = 20; y < H - 20; y++) for (let k = 0; k < n; k++) for (let x = 2 * k * band + shift; x < (2 * k + 1) * band + shift; x++) ids[y * W + x] = k + 1
  return {
    mask: encodeRle(
      Uint8Array.from(ids, (v) => (v ? 255 : 0)),
      W,
      H
    ),
    leaves: encodeLeaves(ids, W, H)
  }
}

async function recordFilesExist(why: string): Promise<void> {
  const mask = (await call('photos.get', { id: photoId })).mask!
  for (const f of [mask.file, mask.instancesFile]) if (f) assert.ok(existsSync(join(projectDir, f)), `${why}: the record names ${f}, which does not exist`)
}

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'race')
  await call('projects.create', { dir: projectDir, name: 'Races' })
  const src = join(tempDir(), 'photos')
  mkdirSync(src)
  await writeLeafPhoto(join(src, 'leaf.png'), leafPhoto(W, H))
  const datasetId = (await call('datasets.create', { name: 'Leaves' })).id
  const job = await call('datasets.importPhotos', { datasetId, paths: [src] })
  assert.equal((await service.requireProject().jobs.wait(job.id)).status, 'succeeded')
  photoId = (await call('datasets.photos', { datasetId, offset: 0, limit: 1, filter: {}, sort: 'name' })).photos[0].id
})

after(() => service.dispose())

test('two saves of one photo at once, again and again: the record always names files that exist', async () => {
  const x = striped(6, 0)
  const y = striped(6, 3)
  for (let trial = 0; trial < 30; trial++) {
    const withLeaves = trial % 2 === 0
    const save = (m: typeof x) => call('labels.saveMask', { photoId, mask: m.mask, how: 'drawn', ...(withLeaves ? { leaves: m.leaves } : {}) })
    await save(x)
    await Promise.all([save(y), save(x)])
    await recordFilesExist(`trial ${trial}${withLeaves ? ' with leaves' : ''}`)
    const got = await call('labels.mask', { photoId })
    assert.ok(
      [x.mask, y.mask].some((m) => JSON.stringify(m) === JSON.stringify(got.mask)),
      'the mask is one of the two saved'
    )
  }
})

test('saves naming the same version: one is recorded, the other refused with conflict (the current version named) and leaves no file', async () => {
  const x = striped(4, 0)
  const y = striped(4, 5)
  for (let trial = 0; trial < 10; trial++) {
    const base = (await call('labels.mask', { photoId })).version
    const answers = await Promise.all(
      [x, y].map((m) => dispatch(service, 'labels.saveMask', { photoId, mask: m.mask, how: 'drawn', leaves: m.leaves, baseVersion: base }))
    )
    const refused = answers.filter((a) => !a.ok)
    assert.equal(refused.length, 1, `trial ${trial}: exactly one save is refused (${JSON.stringify(answers.map((a) => a.ok))})`)
    const error = !refused[0].ok ? refused[0].error : null
    assert.equal(error?.code, 'conflict')
    assert.match(error!.message, new RegExp(`leaf\\.png was saved elsewhere meanwhile \\(it is at version ${base + 1}; this save replaced version ${base}\\)`))
    const winner = answers.findIndex((a) => a.ok)
    const now = await call('labels.mask', { photoId })
    assert.equal(now.version, base + 1)
    assert.deepEqual(now.mask, [x, y][winner].mask, 'the recorded mask is the accepted save')
    const record = (await call('photos.get', { id: photoId })).mask!
    assert.deepEqual(
      readdirSync(join(projectDir, 'masks')).sort(),
      [record.file, record.instancesFile].map((f) => f!.slice('masks/'.length)).sort(),
      'only the recorded files are left'
    )
  }
  const stale = await dispatch(service, 'labels.saveMask', { photoId, mask: x.mask, how: 'drawn', baseVersion: 1 })
  assert.equal(!stale.ok && stale.error.code, 'conflict')
})

test('labels.mask while the same photo is saved: every read answers with a whole mask, old or new', async () => {
  const masks = [striped(8, 0), striped(8, 4)]
  const known = new Set(masks.map((m) => JSON.stringify(m.mask)))
  await call('labels.saveMask', { photoId, mask: masks[1].mask, how: 'drawn', leaves: masks[1].leaves })
  let saving = true
  const saves = (async () => {
    for (let i = 0; i < 40; i++) await call('labels.saveMask', { photoId, mask: masks[i % 2].mask, how: 'drawn', leaves: masks[i % 2].leaves })
    saving = false
  })()
  let reads = 0
  const readers = Array.from({ length: 4 }, async () => {
    while (saving) {
      const r = await dispatch(service, 'labels.mask', { photoId })
      assert.ok(r.ok, `labels.mask failed mid-save: ${!r.ok && r.error.message}`)
      reads++
      assert.ok(known.has(JSON.stringify((r.value as { mask: unknown }).mask)), 'a read gives a saved mask')
    }
  })
  await Promise.all([saves, ...readers])
  assert.ok(reads > 10, `${reads} reads`)
})

test('clean-up in another process, in a loop, never removes a mask being saved', async () => {
  const masks = [striped(10, 0), striped(10, 2)]
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'clean-loop.ts'), projectDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('cleaned 0') && resolve())
      child.once('exit', (code) => reject(new Error(`clean-loop.ts ended (${code}) before cleaning`)))
    })
    for (let i = 0; i < 25; i++) {
      await call('labels.saveMask', { photoId, mask: masks[i % 2].mask, how: 'drawn', leaves: masks[i % 2].leaves })
      await recordFilesExist(`save ${i} beside a clean-up loop`)
      assert.ok((await dispatch(service, 'labels.mask', { photoId })).ok)
    }
  } finally {
    child.kill('SIGKILL')
  }
})

test('migration 12: masks get version 1; pending_files exists and is empty', () => {
  const dir = tempDir()
  const old = new Database(join(dir, databaseFileName))
  migrate(old, 11)
  old.prepare(`INSERT INTO project (id, name, created_at, app_version) VALUES (1, 'old', '2025-01-01T00:00:00Z', '0.0.1')`).run()
  old.prepare(`INSERT INTO datasets (id, name, created_at) VALUES (1, 'd', '2025-01-01T00:00:00Z')`).run()
  old
    .prepare(
      `INSERT INTO photos (id, dataset_id, name, file, thumbnail, hash, bytes, width, height, imported_at) VALUES (1, 1, 'a.png', 'photos/a.png', 'thumbnails/a.png', 'h', 1, 2, 2, '2025-01-01T00:00:00Z')`
    )
    .run()
  old
    .prepare(`INSERT INTO masks (photo_id, file, hash, source, foreground, updated_at) VALUES (1, 'masks/1.png', 'm', 'folder', 0.5, '2025-01-01T00:00:00Z')`)
    .run()
  old.close()
  const project = openProject(dir)
  try {
    assert.deepEqual(project.db.prepare('SELECT photo_id, version FROM masks').all(), [{ photo_id: 1, version: 1 }])
    assert.deepEqual(project.db.prepare('SELECT * FROM pending_files').all(), [])
  } finally {
    project.close()
  }
})
