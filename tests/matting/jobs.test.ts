// Matting through the service and the job path: trimaps and mattes recorded, stale when the mask changes, cutouts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { readRaster } from '../../src/main/core/imaging/raster'
import type { MattingResult } from '../../src/shared/api/matting'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tempDir } from '../helpers/temp'

const W = 80
const H = 60

/** A green disc with a soft 4-pixel rim on grey, and its hard mask of radius r. */
async function leaf(dir: string, name: string, r: number): Promise<void> {
  const rgb = Buffer.alloc(W * H * 3)
  const mask = Buffer.alloc(W * H)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x - 40, y - 30)
      const a = Math.min(1, Math.max(0, (22 - d) / 4))
      rgb.set([Math.round(170 * (1 - a) + 40 * a), Math.round(170 * (1 - a) + 150 * a), Math.round(170 * (1 - a) + 40 * a)], (y * W + x) * 3)
      mask[y * W + x] = d < r ? 255 : 0
    }
  }
  rgb[0] = r // photos differ in content, so neither is taken for a duplicate
  mkdirSync(join(dir, 'photos'), { recursive: true })
  mkdirSync(join(dir, 'masks'), { recursive: true })
  writeFileSync(
    join(dir, 'photos', name),
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer()
  )
  writeFileSync(
    join(dir, 'masks', name),
    await sharp(mask, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer()
  )
}

async function setup() {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Matting' })
  const dataset = await service.api['datasets.create']({ name: 'Discs' })
  const run = async (start: () => Promise<JobInfo>): Promise<JobInfo> => service.requireProject().jobs.wait((await start()).id)
  const src = tempDir()
  await leaf(src, 'big.png', 20)
  await leaf(src, 'tiny.png', 2)
  await run(() => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] }))
  await run(() => service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'masks') } }))
  const photos = (await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 10, filter: {}, sort: 'name' })).photos
  return { service, dataset, run, src, big: photos.find((p) => p.name === 'big.png')!, tiny: photos.find((p) => p.name === 'tiny.png')! }
}

test('trimaps for a dataset: settings remembered, values 0/128/255, a photo whose leaf erodes away is reported', async () => {
  const { service, dataset, run, big, tiny } = await setup()
  const settings = { mode: 'fixed' as const, kernelSize: 3, fgIterations: 2, bgIterations: 3 }
  const job = await run(() => service.api['matting.makeTrimaps']({ datasetId: dataset.id, ...settings }))
  // Ran to the end, but one photo failed: the job says so, and lists it with its reason.
  assert.equal(job.status, 'done-with-problems', job.error ?? '')
  assert.deepEqual(
    job.problems.map((p) => p.item),
    ['tiny.png']
  )
  const result = job.result as MattingResult
  assert.equal(result.made, 1)
  assert.deepEqual(
    result.problems.map((p) => p.photo),
    ['tiny.png']
  )
  assert.match(result.problems[0].reason, /no definite leaf/)
  const detail = await service.api['photos.get']({ id: big.id })
  assert.deepEqual(
    { k: detail.trimap!.kernelSize, f: detail.trimap!.fgIterations, b: detail.trimap!.bgIterations, stale: detail.trimap!.stale },
    { k: 3, f: 2, b: 3, stale: false }
  )
  const trimap = await readRaster(join(service.requireProject().project.dir, detail.trimap!.file), 1)
  assert.deepEqual(new Set(trimap.data), new Set([0, 128, 255]))
  // Distance 20 is the mask edge: 2 erosions by 3×3 keep d < 18, 3 dilations reach d < 23.
  assert.equal(trimap.data[30 * W + 40 + 10], 255)
  assert.equal(trimap.data[30 * W + 40 + 19], 128)
  assert.equal(trimap.data[30 * W + 40 + 30], 0)
  assert.deepEqual((await service.api['datasets.list']({}))[0].trimap, settings)
  assert.equal(tiny.hasMask, true)
  service.dispose()
})

test('the live preview returns a PNG and the class counts without storing anything', async () => {
  const { service, big, tiny } = await setup()
  const preview = await service.api['matting.previewTrimap']({ photoId: big.id, mode: 'fixed', kernelSize: 5, fgIterations: 1, bgIterations: 1 })
  assert.match(preview.dataUrl, /^data:image\/png;base64,/)
  assert.equal(preview.foreground + preview.unknown + preview.background, W * H)
  const wider = await service.api['matting.previewTrimap']({ photoId: big.id, mode: 'fixed', kernelSize: 5, fgIterations: 3, bgIterations: 3 })
  assert.ok(wider.unknown > preview.unknown)
  assert.equal((await service.api['photos.get']({ id: big.id })).trimap, null)
  await assert.rejects(
    service.api['matting.previewTrimap']({ photoId: tiny.id, mode: 'fixed', kernelSize: 5, fgIterations: 5, bgIterations: 5 }),
    /tiny\.png.*no definite leaf/
  )
  service.dispose()
})

test('mattes: soft edges recovered, stale after the mask changes, cutouts exported with the alpha', async () => {
  const { service, dataset, run, big, src } = await setup()
  await service.api['datasets.update']({ id: dataset.id })
  await run(() => service.api['matting.makeTrimaps']({ datasetId: dataset.id, mode: 'fixed', kernelSize: 3, fgIterations: 3, bgIterations: 4 }))
  const job = await run(() => service.api['matting.makeMattes']({ datasetId: dataset.id, photoIds: [big.id] }))
  assert.equal(job.status, 'succeeded', job.error ?? '')
  // The whole dataset: two photos, so the helper process on the second core takes one (tiny's trimap is refused).
  const both = await run(() => service.api['matting.makeMattes']({ datasetId: dataset.id }))
  assert.deepEqual(
    (both.result as MattingResult).problems.map((p) => p.photo),
    ['tiny.png']
  )
  const detail = await service.api['photos.get']({ id: big.id })
  assert.equal(detail.matte!.stale, false)
  const alpha = await readRaster(join(service.requireProject().project.dir, detail.matte!.file), 1)
  const at = (d: number) => alpha.data[30 * W + 40 + d] / 255
  assert.ok(at(0) > 0.95, `centre ${at(0)}`)
  assert.ok(at(30) < 0.05, `background ${at(30)}`)
  // The rim is soft: alpha = (22 - d) / 4 between d = 18 and 22.
  assert.ok(Math.abs(at(20) - 0.5) < 0.2, `rim ${at(20)}`)

  const out = tempDir()
  const cut = await run(() => service.api['matting.exportCutouts']({ datasetId: dataset.id, dir: out, colours: 'foreground' }))
  assert.equal(cut.status, 'succeeded', cut.error ?? '')
  const rgba = await readRaster(join(out, 'big.png'), 4)
  assert.equal(rgba.data[(30 * W + 40) * 4 + 3], alpha.data[30 * W + 40])
  assert.equal(rgba.data[(30 * W + 70) * 4 + 3], alpha.data[30 * W + 70])

  // A new mask for the photo makes its trimap and matte stale.
  const masks = join(src, 'masks2')
  mkdirSync(masks)
  const m = Buffer.alloc(W * H)
  for (let y = 10; y < 50; y++) for (let x = 20; x < 60; x++) m[y * W + x] = 255
  writeFileSync(
    join(masks, 'big.png'),
    await sharp(m, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer()
  )
  await run(() => service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: masks } }))
  const after = await service.api['photos.get']({ id: big.id })
  assert.equal(after.trimap!.stale, true)
  assert.equal(after.matte!.stale, true)
  service.dispose()
})
