// Leaf instances through the jobs the app runs: COCO and Labelbox objects import as leaves, export as PNG leaf
// ids and COCO objects, and import back to the same leaves. Real files, real SQLite, a local HTTP server for
// Labelbox's mask links.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { readRaster } from '../../src/main/core/imaging/raster'
import { readInstanceIds, readInstanceFile } from '../../src/main/core/datasets/instances'
import type { ImportMasksResult } from '../../src/shared/api/datasets'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tempDir } from '../helpers/temp'

const W = 24
const H = 16

async function setup() {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Leaves' })
  const run = async (start: () => Promise<JobInfo>, status: JobInfo['status'] = 'succeeded'): Promise<JobInfo> => {
    const job = await service.requireProject().jobs.wait((await start()).id)
    assert.equal(job.status, status, job.error ?? '')
    return job
  }
  const photos = tempDir()
  for (const [name, seed] of [
    ['leaf1.png', 1],
    ['leaf2.png', 2]
  ] as const) {
    const data = Buffer.alloc(W * H * 3)
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed * 31) % 256
    writeFileSync(
      join(photos, name),
      await sharp(data, { raw: { width: W, height: H, channels: 3 } })
        .png()
        .toBuffer()
    )
  }
  /** A new dataset with the two photos. */
  const dataset = async (name: string) => {
    const d = await service.api['datasets.create']({ name })
    await run(() => service.api['datasets.importPhotos']({ datasetId: d.id, paths: [photos] }))
    return d
  }
  const photo = async (datasetId: number, name: string) => {
    const page = await service.api['datasets.photos']({ datasetId, offset: 0, limit: 10, filter: {}, sort: 'name' })
    const summary = page.photos.find((p) => p.name === name)!
    return { summary, detail: await service.api['photos.get']({ id: summary.id }) }
  }
  const leaves = async (datasetId: number, name: string) => {
    const { detail } = await photo(datasetId, name)
    const inst = await readInstanceIds(service.requireProject().project, detail)
    return inst && { count: inst.count, ids: Array.from(inst.ids) }
  }
  return { service, run, dataset, photo, leaves }
}

/** Three leaves that touch (so they are one blob to connected components) and overlap in one column. */
function threeLeaves(): number[] {
  const ids = new Array(W * H).fill(0)
  for (let y = 2; y < 12; y++) {
    for (let x = 2; x < 8; x++) ids[y * W + x] = 1
    for (let x = 8; x < 14; x++) ids[y * W + x] = 2
  }
  for (let y = 12; y < 15; y++) for (let x = 4; x < 12; x++) ids[y * W + x] = 3
  return ids
}

test('COCO: one annotation per leaf imports as leaves; PNG and COCO exports import back to the same leaves', async () => {
  const { service, run, dataset, photo, leaves } = await setup()
  const first = await dataset('Original')
  const coco = join(tempDir(), 'labels.json')
  // Leaf 2 is drawn over leaf 1's last column: the later annotation has the pixel.
  writeFileSync(
    coco,
    JSON.stringify({
      images: [
        { id: 7, file_name: 'leaf1.png', width: W, height: H },
        { id: 8, file_name: 'leaf2.png', width: W, height: H }
      ],
      annotations: [
        { id: 1, image_id: 7, category_id: 1, iscrowd: 0, segmentation: [[1.5, 1.5, 8.5, 1.5, 8.5, 11.5, 1.5, 11.5]] },
        { id: 2, image_id: 7, category_id: 1, iscrowd: 0, segmentation: [[7.5, 1.5, 13.5, 1.5, 13.5, 11.5, 7.5, 11.5]] },
        { id: 3, image_id: 7, category_id: 1, iscrowd: 0, segmentation: [[3.5, 11.5, 11.5, 11.5, 11.5, 14.5, 3.5, 14.5]] }
      ],
      categories: [{ id: 1, name: 'leaf' }]
    })
  )
  const job = await run(() => service.api['datasets.importMasks']({ datasetId: first.id, source: { kind: 'coco', file: coco } }))
  assert.equal((job.result as ImportMasksResult).masks, 2)
  const expected = { count: 3, ids: threeLeaves() }
  assert.deepEqual(await leaves(first.id, 'leaf1.png'), expected)
  const one = await photo(first.id, 'leaf1.png')
  assert.equal(one.summary.leaves, 3, 'the grid knows the leaf count')
  assert.equal(one.detail.mask!.leaves, 3)
  const binary = await readRaster(join(service.requireProject().project.dir, one.detail.mask!.file), 1)
  assert.deepEqual(
    Array.from(binary.data),
    expected.ids.map((v) => (v ? 255 : 0)),
    'the binary mask is the union of the leaves'
  )
  // An image without annotations: a mask with no leaves (an empty pot), counted as 0.
  assert.deepEqual(await leaves(first.id, 'leaf2.png'), { count: 0, ids: new Array(W * H).fill(0) })

  const out = tempDir()
  await run(() => service.api['datasets.exportMasks']({ datasetId: first.id, dir: out, format: 'png' }))
  assert.deepEqual(Array.from((await readInstanceFile(join(out, 'leaf1.instances.png'))).ids), expected.ids, 'leaf ids beside the binary mask')
  assert.deepEqual(Array.from((await readRaster(join(out, 'leaf1.png'), 1)).data), Array.from(binary.data))
  const fromPng = await dataset('From PNG')
  const pngJob = await run(() => service.api['datasets.importMasks']({ datasetId: fromPng.id, source: { kind: 'folder', dir: out } }))
  assert.deepEqual((pngJob.result as ImportMasksResult).unmatchedMasks, [], 'the instance files are not taken for masks of their own')
  assert.deepEqual(await leaves(fromPng.id, 'leaf1.png'), expected)

  const cocoJob = await run(() => service.api['datasets.exportMasks']({ datasetId: first.id, dir: out, format: 'coco' }))
  const exported = JSON.parse(readFileSync((cocoJob.result as { path: string }).path, 'utf8'))
  assert.equal(
    exported.annotations.filter((a: { image_id: number }) => a.image_id === exported.images.find((i: { file_name: string }) => i.file_name === 'leaf1.png').id)
      .length,
    3,
    'one COCO object per leaf'
  )
  const fromCoco = await dataset('From COCO')
  await run(() => service.api['datasets.importMasks']({ datasetId: fromCoco.id, source: { kind: 'coco', file: (cocoJob.result as { path: string }).path } }))
  assert.deepEqual(await leaves(fromCoco.id, 'leaf1.png'), expected)
  service.dispose()
})

test('an instance file that does not match its mask, and more leaves than a photo holds, are refused by name', async () => {
  const { service, run, dataset, leaves } = await setup()
  const d = await dataset('Refusals')
  const dir = tempDir()
  const ids = threeLeaves()
  writeFileSync(
    join(dir, 'leaf1.png'),
    await sharp(Buffer.from(ids.map((v) => (v ? 255 : 0))), { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer()
  )
  const shifted = [0, ...ids.slice(0, -1)]
  writeFileSync(
    join(dir, 'leaf1.instances.png'),
    await sharp(Buffer.from(shifted), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer()
  )
  const job = await run(() => service.api['datasets.importMasks']({ datasetId: d.id, source: { kind: 'folder', dir } }), 'done-with-problems')
  assert.equal((job.result as ImportMasksResult).masks, 0)
  assert.match((job.result as ImportMasksResult).problems[0].reason, /leaf1\.instances\.png do not cover the same pixels as the mask .*leaf1\.png/)

  const coco = join(tempDir(), 'crowded.json')
  const square = (k: number) => [k % W, 0, (k % W) + 1, 0, (k % W) + 1, 1, k % W, 1]
  writeFileSync(
    coco,
    JSON.stringify({
      images: [{ id: 1, file_name: 'leaf2.png', width: W, height: H }],
      annotations: Array.from({ length: 256 }, (_, k) => ({ id: k + 1, image_id: 1, category_id: 1, segmentation: [square(k)] })),
      categories: [{ id: 1, name: 'leaf' }]
    })
  )
  const crowded = await run(() => service.api['datasets.importMasks']({ datasetId: d.id, source: { kind: 'coco', file: coco } }), 'done-with-problems')
  assert.match(
    (crowded.result as ImportMasksResult).problems[0].reason,
    /crowded\.json \(image leaf2\.png\) labels 256 separate leaves; Leafseg keeps at most 255/
  )
  assert.equal(await leaves(d.id, 'leaf2.png'), null)
  service.dispose()
})

test('Labelbox: each mask object and polygon imports as a leaf; its COCO export imports back to the same leaves', async () => {
  // A composite mask with one colour per leaf, as Labelbox exports them.
  const colours = [
    [200, 0, 0],
    [0, 200, 0],
    [0, 0, 200]
  ]
  const rgb = Buffer.alloc(W * H * 3)
  threeLeaves().forEach((id, i) => id && rgb.set(colours[id - 1], i * 3))
  const composite = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer()
  const server = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer key' || req.url!.split('?')[0] !== '/composite.png') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'image/png' }).end(composite)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  process.env.LEAFSEG_LABELBOX_KEY_HOSTS = '127.0.0.1'
  try {
    const { service, run, dataset, leaves } = await setup()
    const first = await dataset('Labelbox')
    const file = join(tempDir(), 'export.ndjson')
    const object = (c: number[]) => ({
      name: 'leaf',
      annotation_kind: 'ImageSegmentationMask',
      composite_mask: { url: `${base}/composite.png?token=signed`, color_rgb: c }
    })
    const polygon = {
      name: 'leaf',
      annotation_kind: 'ImagePolygon',
      polygon: [
        { x: 17.5, y: 1.5 },
        { x: 21.5, y: 1.5 },
        { x: 21.5, y: 5.5 },
        { x: 17.5, y: 5.5 }
      ]
    }
    const row = {
      data_row: { id: 'dr1', global_key: 'leaf1.png', row_data: 'https://storage/leaf1.png' },
      media_attributes: { height: H, width: W },
      projects: { p1: { labels: [{ annotations: { objects: [...colours.map(object), polygon] } }] } }
    }
    writeFileSync(file, JSON.stringify(row) + '\n')
    await run(() => service.api['datasets.importMasks']({ datasetId: first.id, source: { kind: 'labelbox', file, apiKey: 'key' } }))
    const ids = threeLeaves()
    for (let y = 2; y < 6; y++) for (let x = 18; x < 22; x++) ids[y * W + x] = 4
    const expected = { count: 4, ids }
    assert.deepEqual(await leaves(first.id, 'leaf1.png'), expected)

    const out = tempDir()
    const cocoJob = await run(() => service.api['datasets.exportMasks']({ datasetId: first.id, dir: out, format: 'coco' }))
    const again = await dataset('Back from COCO')
    await run(() => service.api['datasets.importMasks']({ datasetId: again.id, source: { kind: 'coco', file: (cocoJob.result as { path: string }).path } }))
    assert.deepEqual(await leaves(again.id, 'leaf1.png'), expected)
    await run(() => service.api['datasets.exportMasks']({ datasetId: first.id, dir: out, format: 'png' }))
    assert.ok(existsSync(join(out, 'leaf1.instances.png')))
    service.dispose()
  } finally {
    delete process.env.LEAFSEG_LABELBOX_KEY_HOSTS
    server.close()
  }
})
