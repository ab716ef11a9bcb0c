// A project on a disk that fills up: a real 20 MB tmpfs, jobs in a real Node job process. Jobs that hit the
// full disk fail saying so (and how much room they need), the service keeps answering, the database stays
// whole, and the project still opens — read-only, saying why — until space is freed.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, fstatSync, ftruncateSync, openSync, rmSync, writeSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { forkJobProcess } from '../../src/node-host/job-process'
import { freeBytes } from '../../src/main/core/store/errors'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'

const mountPoint = tempDir('leafseg-tmpfs-')
let mounted = false

before(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint])
  mounted = true
})

after(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint])
})

/** A PNG of noise: it does not compress, so its size on disk is about width × height × 3 bytes. */
async function noisePng(path: string, width: number, height: number, seed: number): Promise<void> {
  const data = Buffer.alloc(width * height * 3)
  let x = seed * 2654435761
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = x >>> 24
  }
  writeFileSync(
    path,
    await sharp(data, { raw: { width, height, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer()
  )
}

/** Write zeros into `file` until the disk refuses, then give `leave` bytes back. */
function fill(file: string, leave = 0): void {
  const fd = openSync(file, 'w')
  try {
    for (const chunk of [1 << 20, 1 << 14, 1 << 10, 64]) {
      const buf = Buffer.alloc(chunk)
      for (;;) {
        try {
          writeSync(fd, buf)
        } catch {
          break
        }
      }
    }
    if (leave) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leave))
  } finally {
    closeSync(fd)
  }
}

test('a full disk fails the job with a plain message, keeps the host up and the project whole, and opens read-only', async () => {
  const dir = join(mountPoint, 'project')
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: forkJobProcess, typedPathsAreChoices: true })
  try {
    await service.api['projects.create']({ dir, name: 'Full disk' })
    const dataset = await service.api['datasets.create']({ name: 'Vines' })
    const wait = async (start: Promise<{ id: number }>) => service.requireProject().jobs.wait((await start).id)

    // Earlier data: two photos with masks, made while there was room.
    const first = tempDir()
    await noisePng(join(first, 'a.png'), 64, 48, 1)
    await noisePng(join(first, 'b.png'), 64, 48, 2)
    const masks = tempDir()
    const m = Buffer.alloc(64 * 48)
    m.fill(255, 64 * 10, 64 * 30)
    for (const name of ['a', 'b'])
      writeFileSync(
        join(masks, `${name}_mask.png`),
        await sharp(m, { raw: { width: 64, height: 48, channels: 1 } })
          .png()
          .toBuffer()
      )
    assert.equal((await wait(service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [first] }))).status, 'succeeded')
    assert.equal((await wait(service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: masks } }))).status, 'succeeded')

    // Photos bigger than what is left, then a disk filled to the brim.
    const big = tempDir()
    for (let i = 0; i < 3; i++) await noisePng(join(big, `big${i}.png`), 700, 500, 10 + i) // ~1 MB each
    // Room for the job's own records but not for the photos.
    fill(join(mountPoint, 'filler'), 400_000)
    assert.ok((freeBytes(mountPoint) ?? 0) < 600_000)

    const imported = await wait(service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [big] }))
    assert.equal(imported.status, 'failed')
    assert.match(imported.error ?? '', /The disk is full/)
    assert.match(imported.error ?? '', /needs about [\d.]+ MB/, 'says how much room the import needs')
    assert.match(imported.error ?? '', /free/)
    assert.doesNotMatch(imported.error ?? '', /ENOSPC|copyfile/, 'no raw system error')

    // A job running when the disk fills: the runner's own progress writes fail; the job fails, the host lives.
    // 400 steps of 20 ms: the disk fills after its first step, long before its last.
    const demo = service.requireProject().jobs.start('demo', 'Counting', { steps: 400, stepMs: 20 })
    await waitFor(() => service.requireProject().jobs.get(demo.id).done > 0, { what: 'the first step of the demo job', timeoutMs: 60_000 })
    fill(join(mountPoint, 'filler2'))
    const counted = await service.requireProject().jobs.wait(demo.id)
    assert.equal(counted.status, 'failed', JSON.stringify(counted))
    assert.match(counted.error ?? '', /The disk is full: the project database could not be saved/)

    // Completely full: a trimap job cannot even be recorded, and says so plainly.
    const trimaps = await dispatch(service, 'matting.makeTrimaps', { datasetId: dataset.id, mode: 'fixed', kernelSize: 5, fgIterations: 1, bgIterations: 1 })
    assert.ok(!trimaps.ok)
    assert.equal(trimaps.error.code, 'io')
    assert.match(trimaps.error.message, /^The disk is full: the project database could not be saved\..* free/)

    // The host still answers, and the earlier photos are all there.
    const listed = await dispatch(service, 'datasets.list', {})
    assert.ok(listed.ok)
    const summary = (listed.value as { photos: number; labelled: number }[])[0]
    assert.equal(summary.photos, 2)
    assert.equal(summary.labelled, 2)

    service.closeProject()
    const db = new Database(join(dir, 'leafseg.sqlite'), { readonly: true })
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n, 2)
    db.close()

    // Reopened on the full disk: read-only, saying why; changes are refused plainly.
    const info = await service.api['projects.open']({ dir })
    assert.equal(info.readOnly, true)
    assert.match(info.readOnlyReason ?? '', /disk .* is full/)
    assert.equal((await service.api['datasets.list']({}))[0].photos, 2)
    const refused = await dispatch(service, 'datasets.create', { name: 'More' })
    assert.ok(!refused.ok)
    assert.equal(refused.error.code, 'forbidden')
    assert.match(refused.error.message, /read-only: the disk holding it is full/)

    // Space freed: it opens for changes again.
    rmSync(join(mountPoint, 'filler'))
    rmSync(join(mountPoint, 'filler2'))
    const again = await service.api['projects.open']({ dir })
    assert.equal(again.readOnly, false)
    await service.api['datasets.create']({ name: 'More' })
  } finally {
    service.dispose()
  }
})

test('SQLite and file system errors map to plain messages in one place', async () => {
  const { toErrorShape } = await import('../../src/main/core/store/errors')
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, copyfile '/a/b.png' -> '/p/photos/x.png'"), {
    code: 'ENOSPC',
    path: '/a/b.png',
    dest: '/p/photos/x.png'
  })
  const full = toErrorShape(enospc, { projectDir: mountPoint })
  assert.equal(full.code, 'io')
  assert.match(full.message, /^The disk is full: the file \/p\/photos\/x.png could not be written\./)
  assert.doesNotMatch(full.message, /ENOSPC|copyfile/)
  const wrapped = new Error('Cannot write /p/masks/1.png: ENOSPC', {
    cause: Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', path: '/p/masks/.1.png.tmp-4242-0a1b2c3d' })
  })
  assert.match(toErrorShape(wrapped).message, /^The disk is full: the file \/p\/masks\/1.png could not be written/, 'the file named, not its temp name')
  const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
  assert.equal(toErrorShape(busy).code, 'conflict')
  const acces = Object.assign(new Error("EACCES: permission denied, open '/x/y.png'"), { code: 'EACCES', path: '/x/y.png' })
  assert.deepEqual(toErrorShape(acces), { code: 'forbidden', message: 'Permission denied: Leafseg may not use /x/y.png. Check its permissions.' })
  const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x/z.png'"), { code: 'ENOENT', path: '/x/z.png' })
  assert.equal(toErrorShape(missing).code, 'not_found')
  assert.match(toErrorShape(Object.assign(new Error('x'), { code: 'EROFS', path: '/ro/f' })).message, /read-only disk/)
})
