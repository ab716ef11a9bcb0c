// The labelling API through dispatch, on a real project: GrabCut (real opencv-wasm) proposes a generated leaf
// from its box, one click removes a planted error, and masks saved as a person made them are stored atomically
// with who made them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { ApiMethod, ApiArgs, ApiResult } from '../../src/shared/api'
import { decodeRle, encodeRle } from '../../src/shared/rle'
import { readRaster } from '../../src/main/core/imaging/raster'
import { setMask } from '../../src/main/core/datasets/records'
import { madeByAfterEdit } from '../../src/main/core/labelling/masks'
import { readInstanceIds } from '../../src/main/core/datasets/instances'
import { tempDir } from '../helpers/temp'
import { iou, leafPhoto, writeLeafPhoto, type LeafPhoto } from '../helpers/leaf-photo'

let service: LeafsegService
let projectDir: string
let plain: { id: number; photo: LeafPhoto }
let weedy: { id: number; photo: LeafPhoto }

async function call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
  const r = await dispatch(service, method, args)
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value as ApiResult<M>
}

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'label')
  await call('projects.create', { dir: projectDir, name: 'Labelling' })
  const src = join(tempDir(), 'photos')
  mkdirSync(src)
  const photos = { plain: leafPhoto(160, 120), weedy: leafPhoto(160, 120, { weed: true }) }
  await writeLeafPhoto(join(src, 'plain.png'), photos.plain)
  await writeLeafPhoto(join(src, 'weedy.png'), photos.weedy)
  const datasetId = (await call('datasets.create', { name: 'Leaves' })).id
  const job = await call('datasets.importPhotos', { datasetId, paths: [src] })
  assert.equal((await service.requireProject().jobs.wait(job.id)).status, 'succeeded')
  const listed = (await call('datasets.photos', { datasetId, offset: 0, limit: 10, filter: {}, sort: 'name' })).photos
  const idOf = (name: string) => listed.find((p) => p.name === name)!.id
  plain = { id: idOf('plain.png'), photo: photos.plain }
  weedy = { id: idOf('weedy.png'), photo: photos.weedy }
})

after(() => service.dispose())

test('a box around a generated leaf: GrabCut proposes its shape (IoU ≥ 0.9), as RLE, and saves nothing', async () => {
  const { mask, ms } = await call('labels.assist', { photoId: plain.id, box: plain.photo.box, clicks: [] })
  assert.deepEqual(mask.size, [120, 160])
  const proposed = decodeRle(mask)
  assert.ok(iou(proposed, plain.photo.truth) >= 0.9, `IoU ${iou(proposed, plain.photo.truth)}`)
  assert.ok(ms >= 0)
  assert.equal((await call('photos.get', { id: plain.id })).mask, null)
})

test('a planted error (a weed in the box) is fixed by one corrective click', async () => {
  const { photo } = weedy
  const weed = photo.weed!
  const inWeed = (m: Uint8Array) => {
    let n = 0
    for (let y = weed.y - weed.r; y <= weed.y + weed.r; y++)
      for (let x = weed.x - weed.r; x <= weed.x + weed.r; x++) if ((x - weed.x) ** 2 + (y - weed.y) ** 2 <= weed.r ** 2 && m[y * photo.width + x]) n++
    return n
  }
  const weedArea = Math.PI * weed.r ** 2
  const first = decodeRle((await call('labels.assist', { photoId: weedy.id, box: photo.box, clicks: [] })).mask)
  assert.ok(inWeed(first) > 0.5 * weedArea, `the box alone takes the weed for leaf (${inWeed(first)} px)`)
  const clicks = [{ x: weed.x, y: weed.y, leaf: false }]
  const corrected = decodeRle((await call('labels.assist', { photoId: weedy.id, box: photo.box, clicks })).mask)
  assert.ok(inWeed(corrected) < 0.05 * weedArea, `the weed is gone (${inWeed(corrected)} px left)`)
  assert.ok(iou(corrected, photo.truth) >= 0.95, `IoU ${iou(corrected, photo.truth)}`)
  // The same request again (state replayed or kept) gives the same proposal.
  assert.deepEqual(decodeRle((await call('labels.assist', { photoId: weedy.id, box: photo.box, clicks })).mask), corrected)
})

test('assist refuses what it cannot use, naming the photo', async () => {
  await assert.rejects(call('labels.assist', { photoId: plain.id, clicks: [{ x: 5, y: 5, leaf: true }] }), /plain\.png: An assist starts from a box or a run/)
  await assert.rejects(call('labels.assist', { photoId: plain.id, box: plain.photo.box, clicks: [{ x: 500, y: 5, leaf: true }] }), /outside the 160×120 photo/)
  await assert.rejects(call('labels.assist', { photoId: plain.id, runId: 9, box: plain.photo.box, clicks: [] }), /There is no training run 9/)
})

test('saveMask stores the mask pixel for pixel, made by a person; a wrong size or bad RLE is refused', async () => {
  const proposed = (await call('labels.assist', { photoId: plain.id, box: plain.photo.box, clicks: [] })).mask
  const detail = await call('labels.saveMask', { photoId: plain.id, mask: proposed, how: 'assisted' })
  assert.equal(detail.mask?.madeBy, 'assisted')
  assert.equal(detail.mask?.source, 'drawn')
  assert.equal(detail.mask?.modelMade, false)
  const stored = await readRaster(join(projectDir, detail.mask!.file), 1)
  assert.deepEqual(stored.data, decodeRle(proposed))
  assert.deepEqual((await call('labels.mask', { photoId: plain.id })).mask, proposed)
  // brushing an assisted mask keeps it assisted; the old file is gone, the new one is there
  const edited = decodeRle(proposed)
  edited.fill(255, 0, 160 * 10)
  const again = await call('labels.saveMask', { photoId: plain.id, mask: encodeRle(edited, 160, 120), how: 'drawn' })
  assert.equal(again.mask?.madeBy, 'assisted')
  assert.notEqual(again.mask!.file, detail.mask!.file)
  assert.equal(existsSync(join(projectDir, detail.mask!.file)), false)
  assert.deepEqual((await readRaster(join(projectDir, again.mask!.file), 1)).data, edited)

  const wrongSize = await dispatch(service, 'labels.saveMask', { photoId: plain.id, mask: { size: [10, 10], counts: [100] }, how: 'drawn' })
  assert.match(!wrongSize.ok ? wrongSize.error.message : '', /The mask is 10×10 but plain\.png is 160×120/)
  const badRle = await dispatch(service, 'labels.saveMask', { photoId: plain.id, mask: { size: [120, 160], counts: [5] }, how: 'drawn' })
  assert.match(!badRle.ok ? badRle.error.message : '', /labels\.saveMask: mask: counts add up to 5 pixels but a 160×120 mask has 19200/)
  assert.deepEqual((await readRaster(join(projectDir, again.mask!.file), 1)).data, edited, 'a refused save changes nothing')
})

test('saveMask with leaves writes the leaf instances with the mask; labels.mask gives them back; leaves that do not cover the mask are refused', async () => {
  const W = 160
  const H = 120
  const left = new Uint8Array(W * H)
  const right = new Uint8Array(W * H)
  for (let y = 30; y < 90; y++) {
    for (let x = 40; x < 80; x++) left[y * W + x] = 1
    for (let x = 80; x < 120; x++) right[y * W + x] = 1
  }
  const union = Uint8Array.from(left, (v, i) => (v || right[i] ? 255 : 0))
  const leaves = [encodeRle(left, W, H), encodeRle(right, W, H)]
  const saved = await call('labels.saveMask', { photoId: weedy.id, mask: encodeRle(union, W, H), how: 'drawn', leaves })
  assert.equal(saved.mask!.leaves, 2)
  const inst = (await readInstanceIds(service.requireProject().project, saved))!
  assert.equal(inst.count, 2)
  assert.deepEqual(
    Array.from(inst.ids),
    Array.from(left, (v, i) => (v ? 1 : right[i] ? 2 : 0))
  )
  assert.deepEqual((await readRaster(join(projectDir, saved.mask!.file), 1)).data, union)
  assert.deepEqual((await call('labels.mask', { photoId: weedy.id })).leaves, leaves)

  const gap = await dispatch(service, 'labels.saveMask', { photoId: weedy.id, mask: encodeRle(union, W, H), how: 'drawn', leaves: [leaves[0]] })
  assert.match(!gap.ok ? gap.error.message : '', /The leaves do not cover the mask of weedy\.png exactly \(first difference at x 80, y 30\)/)

  // Saved without leaves (a plain brush edit of a mask whose leaves were never separated): no instances kept.
  const plainSave = await call('labels.saveMask', { photoId: weedy.id, mask: encodeRle(union, W, H), how: 'drawn' })
  assert.equal(plainSave.mask!.instancesFile, null)
  assert.equal(plainSave.mask!.leaves, null)
  assert.equal(existsSync(join(projectDir, saved.mask!.instancesFile!)), false, 'the old instance file is removed')
  assert.equal((await call('labels.mask', { photoId: weedy.id })).leaves, null)
})

test('a person editing a model-made mask makes it model-corrected and hand-checked', async () => {
  const { project } = service.requireProject()
  const m = new Uint8Array(160 * 120)
  const first = await call('labels.saveMask', { photoId: weedy.id, mask: encodeRle(m, 160, 120), how: 'drawn' })
  setMask(project.db, weedy.id, { ...first.mask!, instancesFile: null, source: 'predicted', madeBy: 'model-made', modelMade: true })
  m.fill(255, 0, 500)
  const corrected = await call('labels.saveMask', { photoId: weedy.id, mask: encodeRle(m, 160, 120), how: 'drawn' })
  assert.equal(corrected.mask?.madeBy, 'model-corrected')
  assert.equal(corrected.mask?.modelMade, false)
  assert.equal(madeByAfterEdit('imported', 'drawn'), 'drawn')
  assert.equal(madeByAfterEdit(null, 'assisted'), 'assisted')
  assert.equal(madeByAfterEdit('model-corrected', 'assisted'), 'model-corrected')
})

test('a save that fails at the commit leaves the old mask whole', async () => {
  const { project } = service.requireProject()
  const before = await call('photos.get', { id: plain.id })
  const oldPixels = (await readRaster(join(projectDir, before.mask!.file), 1)).data
  project.db.exec(`CREATE TRIGGER fail_mask_update BEFORE UPDATE ON masks BEGIN SELECT RAISE(ABORT, 'disk gone'); END`)
  try {
    const r = await dispatch(service, 'labels.saveMask', { photoId: plain.id, mask: encodeRle(new Uint8Array(160 * 120).fill(255), 160, 120), how: 'drawn' })
    assert.equal(r.ok, false)
  } finally {
    project.db.exec('DROP TRIGGER fail_mask_update')
  }
  const after = await call('photos.get', { id: plain.id })
  assert.deepEqual(after.mask, before.mask)
  assert.deepEqual((await readRaster(join(projectDir, after.mask!.file), 1)).data, oldPixels)
})

test('a host killed mid-save (SIGKILL, at any moment) leaves a whole mask that matches its record', async () => {
  const { createHash } = await import('node:crypto')
  const { spawn } = await import('node:child_process')
  const { openProject } = await import('../../src/main/core/project')
  const { getPhoto } = await import('../../src/main/core/datasets/records')
  service.closeProject()
  const n = 160 * 120
  const halves = [new Uint8Array(n).fill(255, 0, n / 2), new Uint8Array(n).fill(255, n / 4)]
  for (const delayMs of [0, 7, 23, 61]) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'save-loop.ts'), projectDir, String(plain.id), '160', '120'], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    // kill once it is saving: after its second save and a few more milliseconds, wherever it is then
    await new Promise<void>((resolve) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('saved 1\n'))
          setTimeout(() => {
            child.kill('SIGKILL')
            resolve()
          }, delayMs)
      })
    })
    await new Promise((resolve) => child.once('exit', resolve))
    const project = openProject(projectDir)
    try {
      const mask = getPhoto(project.db, plain.id).mask!
      const pixels = (await readRaster(join(projectDir, mask.file), 1)).data
      assert.equal(createHash('sha256').update(pixels).digest('hex'), mask.hash, `after a kill ${delayMs} ms in`)
      assert.ok(halves.some((h) => Buffer.compare(Buffer.from(h), Buffer.from(pixels)) === 0))
    } finally {
      project.close()
    }
  }
  await call('projects.open', { dir: projectDir })
})

test('on a large photo GrabCut works around the box (a leaf click beyond it grows the region); a region over a million pixels is worked on scaled down', async () => {
  const { GrabCutAssist } = await import('../../src/main/core/labelling/grabcut')
  // a leaf photo set into a 1400×1000 field (1.4 Mpx, above the whole-photo limit)
  const small = leafPhoto(300, 220, { seed: 9 })
  const W = 1400
  const H = 1000
  const at = { x: 900, y: 650 }
  const rgb = new Uint8Array(W * H * 3)
  const truth = new Uint8Array(W * H)
  // the field is the same soil as the leaf photo's (same pattern, same noise), so only the leaf stands out
  let seed = 5
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 24
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      rgb.set(
        [120 + ((x * 7 + y * 3) % 17) + noise(), 90 + noise(), 60 + noise()].map((v) => Math.max(0, Math.min(255, Math.round(v)))),
        (y * W + x) * 3
      )
  for (let y = 0; y < small.height; y++) {
    rgb.set(small.rgb.subarray(y * small.width * 3, (y + 1) * small.width * 3), ((y + at.y) * W + at.x) * 3)
    truth.set(small.truth.subarray(y * small.width, (y + 1) * small.width), (y + at.y) * W + at.x)
  }
  const assist = new GrabCutAssist({ width: W, height: H, channels: 3, data: rgb })
  try {
    const box = { x: at.x + small.box.x, y: at.y + small.box.y, width: small.box.width, height: small.box.height }
    const proposed = assist.propose({ box }, [])
    assert.ok(iou(proposed, truth) >= 0.9, `IoU ${iou(proposed, truth)}`)
    // a background click far outside the working region changes nothing (it is background already)
    assert.deepEqual(assist.propose({ box }, [{ x: 20, y: 20, leaf: false }]), proposed)
    // a leaf click beyond it: the region grows to take it in, and the click's disk is leaf
    const grown = assist.propose({ box }, [
      { x: 20, y: 20, leaf: false },
      { x: 100, y: 100, leaf: true }
    ])
    assert.equal(grown[100 * W + 100], 255)
  } finally {
    assist.dispose()
  }
  // a box over most of the photo: GrabCut works on it scaled down to a million pixels, the proposal comes back at
  // the photo's size
  const wide = new GrabCutAssist({ width: W, height: H, channels: 3, data: rgb })
  try {
    const proposed = wide.propose({ box: { x: 300, y: 200, width: 1050, height: 780 } }, [])
    assert.equal(proposed.length, W * H)
    assert.ok(iou(proposed, truth) >= 0.85, `IoU ${iou(proposed, truth)} from a loose box, scaled`)
  } finally {
    wide.dispose()
  }
})
