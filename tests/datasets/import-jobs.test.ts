// Dataset jobs end to end through the service: real files, real SQLite, the job path the app uses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { jobHandlers } from '../../src/main/core/job-handlers'
import { importPhotosJob } from '../../src/main/core/datasets/jobs'
import type { JobHandler } from '../../src/main/core/jobs/context'
import { readRaster } from '../../src/main/core/imaging/raster'
import type { ImportMasksResult, ImportPhotosResult } from '../../src/shared/api/datasets'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tempDir } from '../helpers/temp'

const W = 24
const H = 16

async function photo(path: string, seed: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const data = Buffer.alloc(W * H * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed * 31) % 256
  const img = sharp(data, { raw: { width: W, height: H, channels: 3 } })
  writeFileSync(path, await (format === 'png' ? img.png() : img.jpeg()).toBuffer())
}

/** A mask with a leaf rectangle [x0, x1) × [y0, y1), as 0/255 or 0/1 values. */
async function mask(path: string, x0: number, x1: number, on = 255, width = W, height = H): Promise<void> {
  const data = Buffer.alloc(width * height)
  for (let y = 2; y < 10; y++) for (let x = x0; x < x1; x++) data[y * width + x] = on
  writeFileSync(
    path,
    await sharp(data, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer()
  )
}

async function setup() {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Datasets' })
  const dataset = await service.api['datasets.create']({ name: 'Vines' })
  const run = async (start: () => Promise<JobInfo>): Promise<JobInfo> => service.requireProject().jobs.wait((await start()).id)
  return { service, dataset, run }
}

async function photoFolder(): Promise<string> {
  const dir = tempDir()
  mkdirSync(join(dir, 'plot B'))
  await photo(join(dir, 'leaf1.png'), 1)
  await photo(join(dir, 'leaf2.jpg'), 2, 'jpeg')
  await photo(join(dir, 'plot B', 'leaf3.png'), 3)
  writeFileSync(join(dir, 'leaf1_copy.png'), readFileSync(join(dir, 'leaf1.png')))
  const jpeg = readFileSync(join(dir, 'leaf2.jpg'))
  writeFileSync(join(dir, 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)))
  writeFileSync(join(dir, 'empty.png'), '')
  writeFileSync(join(dir, 'notes.jpg'), 'these are field notes, not a photo')
  writeFileSync(join(dir, 'readme.txt'), 'ignored')
  return dir
}

test('importing a folder: sub-folders walked, duplicates once, bad files listed with reasons', async () => {
  const { service, dataset, run } = await setup()
  const folder = await photoFolder()
  const job = await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [folder] }))
  assert.equal(job.status, 'done-with-problems', job.error ?? '')
  const result = job.result as ImportPhotosResult
  assert.equal(result.imported, 3)
  assert.equal(result.duplicates.length, 1)
  assert.equal(result.problems.length, 3)
  const reasons = (await service.api['datasets.problems']({ datasetId: dataset.id })).map((p) => `${p.path}: ${p.reason}`).join('\n')
  for (const name of ['cut.jpg', 'empty.png', 'notes.jpg']) assert.match(reasons, new RegExp(name))
  const page = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: {}, sort: 'name' })
  assert.deepEqual(page.photos.map((p) => p.name).sort(), ['leaf1.png', 'leaf2.jpg', 'leaf3.png'])
  const { project } = service.requireProject()
  for (const p of page.photos) {
    const detail = await service.api['photos.get']({ id: p.id })
    assert.ok(existsSync(join(project.dir, detail.file)), 'the photo is copied into the project')
    assert.ok(existsSync(join(project.dir, detail.thumbnail)), 'with a thumbnail')
    assert.deepEqual([detail.width, detail.height], [W, H])
  }
  // The same photos again: all duplicates, nothing new.
  const again = await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [folder] }))
  assert.equal((again.result as ImportPhotosResult).imported, 0)
  assert.equal((again.result as ImportPhotosResult).duplicates.length, 4)
  service.dispose()
})

test('an empty folder is refused with a message naming it', async () => {
  const { service, dataset, run } = await setup()
  const empty = tempDir()
  const job = await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [empty] }))
  assert.equal(job.status, 'failed')
  assert.match(job.error ?? '', new RegExp(`No photos found in ${empty}`))
  service.dispose()
})

test('a mask folder: names matched with suffixes, 0/1 masks read, a wrong-sized mask refused for its photo', async () => {
  const { service, dataset, run } = await setup()
  const photos = await photoFolder()
  await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [photos] }))
  const masks = tempDir()
  await mask(join(masks, 'leaf1.png'), 2, 8)
  await mask(join(masks, 'leaf2_mask.png'), 4, 12, 1)
  await mask(join(masks, 'leaf3.png'), 0, 4, 255, W + 2, H)
  await mask(join(masks, 'stray.png'), 0, 4)
  const job = await run(() => service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: masks } }))
  assert.equal(job.status, 'done-with-problems', job.error ?? '')
  const result = job.result as ImportMasksResult
  assert.equal(result.masks, 2)
  assert.equal(result.problems.length, 1)
  assert.match(result.problems[0].reason, /leaf3/)
  assert.match(result.problems[0].reason, /26×16/)
  assert.deepEqual(
    result.unmatchedMasks.map((m) => m.path.split('/').pop()),
    ['stray.png']
  )

  const labelled = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: { labelled: true }, sort: 'name' })
  assert.deepEqual(
    labelled.photos.map((p) => p.name),
    ['leaf1.png', 'leaf2.jpg']
  )
  const leaf2 = await service.api['photos.get']({ id: labelled.photos[1].id })
  const stored = await readRaster(join(service.requireProject().project.dir, leaf2.mask!.file), 1)
  let on = 0
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const expected = y >= 2 && y < 10 && x >= 4 && x < 12 ? 255 : 0
      assert.equal(stored.data[y * W + x], expected, `pixel ${x},${y}`)
      if (expected) on++
    }
  assert.equal(leaf2.mask!.foreground, on / (W * H))
  service.dispose()
})

test('COCO polygons import, and masks export as PNG and COCO that re-import to the same pixels', async () => {
  const { service, dataset, run } = await setup()
  const photos = await photoFolder()
  await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [photos] }))
  const coco = join(tempDir(), 'labels.json')
  writeFileSync(
    coco,
    JSON.stringify({
      images: [
        { id: 7, file_name: 'images/leaf1.png', width: W, height: H },
        { id: 8, file_name: 'other.png', width: W, height: H }
      ],
      annotations: [{ id: 1, image_id: 7, category_id: 1, iscrowd: 0, segmentation: [[2, 2, 10, 2, 10, 8, 2, 8]] }],
      categories: [{ id: 1, name: 'leaf' }]
    })
  )
  const job = await run(() => service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'coco', file: coco } }))
  assert.equal(job.status, 'done-with-problems', job.error ?? '')
  assert.equal((job.result as ImportMasksResult).masks, 1)
  assert.deepEqual(
    (job.result as ImportMasksResult).unmatchedMasks.map((m) => m.path),
    ['other.png']
  )

  const out = tempDir()
  assert.equal((await run(() => service.api['datasets.exportMasks']({ datasetId: dataset.id, dir: out, format: 'png' }))).status, 'succeeded')
  const exported = await readRaster(join(out, 'leaf1.png'), 1)
  const photoId = (await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: { labelled: true }, sort: 'name' })).photos[0].id
  const original = await readRaster(join(service.requireProject().project.dir, (await service.api['photos.get']({ id: photoId })).mask!.file), 1)
  assert.deepEqual(Array.from(exported.data), Array.from(original.data))
  assert.ok(original.data.some((v) => v === 255))

  const cocoJob = await run(() => service.api['datasets.exportMasks']({ datasetId: dataset.id, dir: out, format: 'coco' }))
  const cocoOut = (cocoJob.result as { path: string }).path
  const copy = await service.api['datasets.create']({ name: 'Copy' })
  const photoFile = join(service.requireProject().project.dir, (await service.api['photos.get']({ id: photoId })).file)
  await run(() => service.api['datasets.importPhotos']({ datasetId: copy.id, paths: [photoFile] }))
  // The copied photo is named by its content hash; give COCO the same name to match.
  const copyPhoto = (await service.api['datasets.photos']({ datasetId: copy.id, offset: 0, limit: 1, filter: {}, sort: 'name' })).photos[0]
  const json = JSON.parse(readFileSync(cocoOut, 'utf8'))
  json.images[0].file_name = copyPhoto.name
  writeFileSync(cocoOut, JSON.stringify(json))
  await run(() => service.api['datasets.importMasks']({ datasetId: copy.id, source: { kind: 'coco', file: cocoOut } }))
  const roundTrip = await readRaster(join(service.requireProject().project.dir, (await service.api['photos.get']({ id: copyPhoto.id })).mask!.file), 1)
  assert.deepEqual(Array.from(roundTrip.data), Array.from(original.data))
  service.dispose()
})

test('splits: a ratio with a seed is reproducible; a hand-set split sticks', async () => {
  const { service, dataset, run } = await setup()
  const photos = await photoFolder()
  await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [photos] }))
  const a = await service.api['datasets.split']({ datasetId: dataset.id, ratio: [2, 1, 0], seed: 7 })
  assert.deepEqual(a.splits, { train: 2, val: 1, test: 0, none: 0 })
  const order = async () =>
    (await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: {}, sort: 'name' })).photos.map((p) => p.split)
  const first = await order()
  await service.api['datasets.split']({ datasetId: dataset.id, ratio: [1, 1, 1], seed: 1 })
  await service.api['datasets.split']({ datasetId: dataset.id, ratio: [2, 1, 0], seed: 7 })
  assert.deepEqual(await order(), first)
  const ids = (await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: {}, sort: 'name' })).photos.map((p) => p.id)
  const b = await service.api['datasets.split']({ datasetId: dataset.id, photoIds: [ids[0]], split: 'test' })
  assert.equal(b.splits.test, 1)
  const tests = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: { split: 'test' }, sort: 'name' })
  assert.deepEqual(
    tests.photos.map((p) => p.id),
    [ids[0]]
  )
  service.dispose()
})

test('Labelbox through the job: key sent only as a header, kept out of the stored job; 401 says to check the key', async () => {
  const masks = new Map<string, Buffer>()
  const rgb = Buffer.alloc(W * H * 3)
  for (let y = 2; y < 10; y++) for (let x = 0; x < 6; x++) rgb.set([0, 200, 0], (y * W + x) * 3)
  masks.set(
    '/m1.png',
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer()
  )
  let seenAuth = ''
  const server = createServer((req, res) => {
    seenAuth = req.headers.authorization ?? ''
    if (req.headers.authorization !== 'Bearer good-key') return res.writeHead(401).end()
    const body = masks.get(req.url!.split('?')[0])
    if (!body) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'image/png' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  process.env.LEAFSEG_LABELBOX_KEY_HOSTS = '127.0.0.1'
  try {
    const { service, dataset, run } = await setup()
    const photos = await photoFolder()
    await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [photos] }))
    const exportFile = join(tempDir(), 'export.ndjson')
    const row = {
      data_row: { id: 'dr1', global_key: 'leaf1.png', row_data: 'https://storage/leaf1.png', external_id: 'leaf1.png' },
      media_attributes: { height: H, width: W },
      projects: {
        p1: {
          labels: [
            {
              annotations: {
                objects: [{ annotation_kind: 'ImageSegmentationMask', composite_mask: { url: `${base}/m1.png?token=signed`, color_rgb: [0, 200, 0] } }]
              }
            }
          ]
        }
      }
    }
    writeFileSync(exportFile, JSON.stringify(row) + '\n')
    const bad = await run(() =>
      service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'labelbox', file: exportFile, apiKey: 'wrong-key' } })
    )
    assert.equal(bad.status, 'failed')
    assert.match(bad.error ?? '', /key/i)
    assert.doesNotMatch(bad.error ?? '', /wrong-key/)
    const good = await run(() =>
      service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'labelbox', file: exportFile, apiKey: 'good-key' } })
    )
    assert.equal(good.status, 'succeeded', good.error ?? '')
    assert.equal((good.result as ImportMasksResult).masks, 1)
    assert.equal(seenAuth, 'Bearer good-key')
    const stored = service.requireProject().project.db.prepare('SELECT params FROM jobs').all() as { params: string }[]
    assert.ok(
      stored.every((r) => !r.params.includes('good-key') && !r.params.includes('wrong-key')),
      'the API key is never stored'
    )
    service.dispose()
  } finally {
    delete process.env.LEAFSEG_LABELBOX_KEY_HOSTS
    server.close()
  }
})

test('a cancelled import leaves only complete photos behind', async () => {
  // The real import, in this process, cancelled the moment it reports its 5th photo done: photos still in
  // hand then (at most 3 more, 4 at a time) finish or are dropped, and none is started after.
  let cancel = (): void => {}
  const importCancelledAt5: JobHandler<'import-photos'> = (params, ctx) =>
    importPhotosJob(params, {
      ...ctx,
      progress(done, total, message) {
        ctx.progress(done, total, message)
        if (total > 0 && done === 5) cancel()
      }
    })
  const jobProcess = () => inProcessJobs({ ...jobHandlers, 'import-photos': importCancelledAt5 })
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Datasets' })
  const dataset = await service.api['datasets.create']({ name: 'Vines' })
  const dir = tempDir()
  for (let i = 0; i < 40; i++) await photo(join(dir, `p${i}.png`), i + 10)
  const job = await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [dir] })
  cancel = () => void service.api['jobs.cancel']({ id: job.id })
  const done = await service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, 'cancelled', done.error ?? '')
  const page = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 100, filter: {}, sort: 'name' })
  assert.ok(page.total <= 8, `${page.total} photos imported: the import went on after it was cancelled`)
  for (const p of page.photos) {
    const d = await service.api['photos.get']({ id: p.id })
    const file = join(service.requireProject().project.dir, d.file)
    assert.ok(existsSync(file), `${d.name}: its file ${file} is missing`)
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), d.hash, `${d.name}: its file ${file} is not the whole photo`)
  }
  service.dispose()
})

test('importing a folder that holds the project skips the project folder and says so', async () => {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const parent = tempDir()
  const projectDir = join(parent, 'my project')
  await service.api['projects.create']({ dir: projectDir, name: 'Inside' })
  const dataset = await service.api['datasets.create']({ name: 'Vines' })
  await photo(join(parent, 'leaf1.png'), 1)
  // The project already holds imported photos and thumbnails: none of them may come back as photos.
  const first = await service
    .requireProject()
    .jobs.wait((await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(parent, 'leaf1.png')] })).id)
  assert.equal(first.status, 'succeeded', first.error ?? '')
  await photo(join(parent, 'leaf2.png'), 2)
  const job = await service.requireProject().jobs.wait((await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [parent] })).id)
  assert.equal(job.status, 'done-with-problems', job.error ?? '')
  const result = job.result as ImportPhotosResult
  assert.equal(result.imported, 1, 'leaf2 only: leaf1 is a duplicate, the project files are skipped')
  assert.deepEqual(
    result.duplicates.map((d) => d.path),
    [join(parent, 'leaf1.png')]
  )
  assert.deepEqual(result.problems, [
    { path: projectDir, reason: `The folder ${projectDir} is a Leafseg project; it was skipped (its thumbnails and database are not photos to import)` }
  ])
  const problems = await service.api['datasets.problems']({ datasetId: dataset.id })
  assert.ok(problems.some((p) => p.path === projectDir))
  // Given the project folder itself: nothing to import, and the message says why.
  const own = await service.requireProject().jobs.wait((await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [projectDir] })).id)
  assert.equal(own.status, 'failed')
  assert.match(own.error ?? '', /is a Leafseg project; it was skipped/)
  service.dispose()
})
