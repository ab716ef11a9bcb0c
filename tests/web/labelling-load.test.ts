// The labelling API under load, over real HTTP against the real web host: a long assist does not hold up other
// requests, and a bounded soak of 32 clients saving, reading and cleaning one project leaves it whole, with every
// acknowledged save either the final mask or replaced by a later acknowledged one, and every other save refused
// with 409.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import { startWebHost, type WebHost } from '../../src/web/server'
import type { ApiMethod, ApiArgs, ApiResult } from '../../src/shared/api'
import { encodeLeaves, encodeRle, type Rle } from '../../src/shared/rle'
import { databaseFileName } from '../../src/main/core/project'
import { hostRequest } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { leafPhoto, writeLeafPhoto } from '../helpers/leaf-photo'

const W = 200
const H = 150
let service: LeafsegService
let host: WebHost
let projectDir: string
const photoIds: Record<string, number> = {}

async function call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
  const r = await dispatch(service, method, args)
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value as ApiResult<M>
}

/** One API call over HTTP: its status and its `{ ok, value | error }` answer. */
async function http(method: string, args: unknown): Promise<{ status: number; ok: boolean; value?: any; error?: { code: string; message: string } }> {
  const res = await hostRequest(host, `/api/${method}`, {
    method: 'POST',
    headers: { 'x-leafseg-token': host.token, 'content-type': 'application/json' },
    body: JSON.stringify(args)
  })
  return { status: res.status, ...JSON.parse(res.body) }
}

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'load')
  await call('projects.create', { dir: projectDir, name: 'Load' })
  const src = join(tempDir(), 'photos')
  mkdirSync(src)
  for (let k = 0; k < 4; k++) await writeLeafPhoto(join(src, `p${k}.png`), leafPhoto(W, H, { seed: 3 + k }))
  await writeLeafPhoto(join(src, 'large.png'), leafPhoto(480, 360, { weed: true }))
  const datasetId = (await call('datasets.create', { name: 'Leaves' })).id
  const job = await call('datasets.importPhotos', { datasetId, paths: [src] })
  assert.equal((await service.requireProject().jobs.wait(job.id)).status, 'succeeded')
  for (const p of (await call('datasets.photos', { datasetId, offset: 0, limit: 10, filter: {}, sort: 'name' })).photos) photoIds[p.name] = p.id
  // the API only: no renderer needed
  host = await startWebHost({ service, staticDir: tempDir() })
})

after(async () => {
  await host.close()
  service.dispose()
})

test('while a long assist runs, cheap requests are answered: several app.info answers come before the assist', async () => {
  const photoId = photoIds['large.png']
  const photo = leafPhoto(480, 360, { weed: true })
  // the photo is loaded by a first proposal, so the long one below is GrabCut alone
  assert.equal((await http('labels.assist', { photoId, box: photo.box, clicks: [] })).status, 200)
  const order: string[] = []
  let assistDone = false
  const clicks = [
    { x: photo.weed!.x, y: photo.weed!.y, leaf: false },
    { x: 240, y: 180, leaf: true }
  ]
  const assist = http('labels.assist', { photoId, box: { x: 2, y: 2, width: 476, height: 356 }, clicks }).then((r) => {
    assert.equal(r.status, 200, JSON.stringify(r.error))
    order.push('assist')
    assistDone = true
  })
  const cheap = (async () => {
    while (!assistDone) {
      const r = await http('app.info', {})
      assert.equal(r.status, 200)
      if (!assistDone) order.push('info')
    }
  })()
  await Promise.all([assist, cheap])
  const before = order.indexOf('assist')
  assert.ok(before >= 5, `only ${before} app.info answers came before the assist's: ${order.join(' ')}`)
})

/** A mask of the photo unique to (client, step): a band of rows, split into two leaves when `leaves`. */
function maskFor(client: number, step: number, leaves: boolean): { mask: Rle; leaves?: Rle[] } {
  const ids = new Uint16Array(W * H)
  const top = (client * 3 + step) % (H - 20)
  for (let y = top; y < top + 15; y++) for (let x = 10 + client; x < W - 10; x++) ids[y * W + x] = leaves && x >= W / 2 ? 2 : 1
  const mask = encodeRle(
    Uint8Array.from(ids, (v) => (v ? 255 : 0)),
    W,
    H
  )
  return leaves ? { mask, leaves: encodeLeaves(ids, W, H) } : { mask }
}

test('soak: 32 clients saving, reading and cleaning one project; afterwards it is whole and no acknowledged save was lost', async () => {
  const clients = 32
  const steps = 12
  const photos = ['p0.png', 'p1.png', 'p2.png', 'p3.png'].map((n) => photoIds[n])
  const acknowledged: { photoId: number; version: number; mask: string }[] = []
  const counts = { saved: 0, refused: 0, reads: 0, cleans: 0 }
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const seen = new Map<number, number>()
      for (let step = 0; step < steps; step++) {
        const photoId = photos[(client + step) % photos.length]
        const kind = (client * 7 + step) % 10
        if (kind === 0) {
          const r = await http('projects.clean', {})
          assert.equal(r.status, 200, `clean: ${JSON.stringify(r.error)}`)
          counts.cleans++
        } else if (kind < 4 || !seen.has(photoId)) {
          const r = await http('labels.mask', { photoId })
          assert.equal(r.status, 200, `labels.mask: ${JSON.stringify(r.error)}`)
          seen.set(photoId, r.value.version)
          counts.reads++
        } else {
          const m = maskFor(client, step, kind % 2 === 0)
          const r = await http('labels.saveMask', { photoId, how: 'drawn', ...m, baseVersion: seen.get(photoId) })
          if (r.status === 409) {
            assert.equal(r.error?.code, 'conflict')
            counts.refused++
            seen.delete(photoId)
          } else {
            assert.equal(r.status, 200, `save: ${JSON.stringify(r.error)}`)
            acknowledged.push({ photoId, version: r.value.mask.version, mask: JSON.stringify(m.mask) })
            seen.set(photoId, r.value.mask.version)
            counts.saved++
          }
        }
      }
    })
  )
  assert.ok(counts.saved > 0 && counts.refused > 0 && counts.reads > 0 && counts.cleans > 0, JSON.stringify(counts))

  for (const photoId of photos) {
    const final = await call('labels.mask', { photoId })
    const acks = acknowledged.filter((a) => a.photoId === photoId)
    const versions = acks.map((a) => a.version)
    assert.equal(new Set(versions).size, versions.length, `photo ${photoId}: two acknowledged saves got the same version (one was lost silently)`)
    const last = acks.reduce((a, b) => (b.version > a.version ? b : a))
    assert.equal(final.version, last.version, `photo ${photoId}: the final mask is the last acknowledged save`)
    assert.equal(JSON.stringify(final.mask), last.mask)
  }
  const db = new Database(join(projectDir, databaseFileName), { readonly: true })
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
    const files = db
      .prepare(
        'SELECT file AS f FROM masks UNION ALL SELECT instances_file FROM masks WHERE instances_file IS NOT NULL UNION ALL SELECT file FROM photos UNION ALL SELECT thumbnail FROM photos'
      )
      .all() as { f: string }[]
    for (const { f } of files) assert.ok(existsSync(join(projectDir, f)), `the record names ${f}, which does not exist`)
    assert.deepEqual(db.prepare('SELECT * FROM pending_files').all(), [], 'no write is left listed as in flight')
  } finally {
    db.close()
  }
})
