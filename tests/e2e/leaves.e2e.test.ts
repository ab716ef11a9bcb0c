// Leaves end to end in Chromium, with real mouse and keyboard events: a colour label imported as two leaves shows
// its leaf count in the grid and in the inspector's Leaves layer; in the editor a line splits a leaf, two clicks
// merge two, undo brings the split back, and a new leaf is painted; each saved with the mask.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { canvasesDrawn, screenshot } from '../helpers/browser'
import { photoPointer } from './photo-pointer'
import { browserHost, callApi } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { leafPhoto, writeLeafPhoto } from '../helpers/leaf-photo'
import { decodeRle } from '../../src/shared/rle'

const { skip, state } = browserHost({ width: 1280, height: 820 })
const W = 160
const H = 120
let photoId = 0

/** Two leaves touching along x = 80: one blob to connected components. */
function twoLeaves(): Uint8Array {
  const ids = new Uint8Array(W * H)
  for (let y = 30; y < 90; y++) for (let x = 30; x < 130; x++) ids[y * W + x] = x < 80 ? 1 : 2
  return ids
}

/** The leaves as stored once the editor has saved its `edits`-th edit: leaf id per pixel (1..n, in stored order). */
async function savedLeaves(edits: number): Promise<{ count: number; ids: Uint8Array; mask: Uint8Array }> {
  await state.page.locator(`[data-testid="mask-editor"][data-saved-edits="${edits}"]`).waitFor()
  const answer = await callApi(state.t.host, 'labels.mask', { photoId })
  assert.ok(answer.ok && answer.value.mask && answer.value.leaves, JSON.stringify(answer.error ?? answer.value))
  const ids = new Uint8Array(W * H)
  answer.value.leaves.forEach((leaf: { size: [number, number]; counts: number[] }, k: number) => decodeRle(leaf).forEach((v, i) => v && (ids[i] = k + 1)))
  return { count: answer.value.leaves.length, ids, mask: decodeRle(answer.value.mask) }
}

test('set up a project with a photo whose colour label has two touching leaves', { skip }, async () => {
  const api = state.t.service.api
  await api['projects.create']({ dir: join(tempDir(), 'leaves'), name: 'Leaves' })
  const dataset = await api['datasets.create']({ name: 'Rosettes' })
  const src = tempDir()
  mkdirSync(join(src, 'photos'))
  mkdirSync(join(src, 'labels'))
  await writeLeafPhoto(join(src, 'photos', 'plant.png'), leafPhoto(W, H, { seed: 3 }))
  const colours = [
    [0, 0, 0],
    [230, 40, 40],
    [40, 90, 230]
  ]
  const rgb = Buffer.from(Array.from(twoLeaves(), (v) => colours[v]).flat())
  writeFileSync(
    join(src, 'labels', 'plant_label.png'),
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer()
  )
  const jobs = state.t.service.requireProject().jobs
  for (const start of [
    () => api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] }),
    () => api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'labels') } })
  ]) {
    const job = await jobs.wait((await start()).id)
    assert.equal(job.status, 'succeeded', job.error ?? '')
  }
  photoId = (await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 1, filter: {}, sort: 'name' })).photos[0].id
})

test('the grid and the inspector show the leaf count; the Leaves layer draws each leaf in its own colour', { skip }, async () => {
  const page = state.page
  await page.goto(state.t.host.url)
  assert.equal(await page.getByTestId('leaf-count').first().textContent(), '2 leaves')
  await screenshot(page, 'leaves-00-grid')
  await page.getByTestId('photo-cell').first().click()
  await page.getByTestId('inspector').waitFor()
  assert.match((await page.getByTestId('layer-leaves').textContent()) ?? '', /Leaves \(2\)/)
  await page.getByTestId('layer-leaves').click()
  await page.getByTestId('layer-note').waitFor()
  assert.match((await page.getByTestId('layer-note').textContent()) ?? '', /2 leaves/)
  // The two leaves are drawn in two different colours.
  await canvasesDrawn(page, 'the Leaves layer in the inspector')
  // The pointer readout names the leaf under it (the photo's middle is on a leaf), never "undefined".
  const stage = (await page.getByTestId('inspector-canvas').boundingBox())!
  await page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height / 2)
  await page
    .getByTestId('readout')
    .filter({ hasText: /x \d+, y \d+ · leaf [12]$/ })
    .waitFor()
  await screenshot(page, 'leaves-01-inspector-layer')
})

test('split with a line, merge with two clicks, undo, a new leaf painted; each saved with the mask', { skip }, async () => {
  const page = state.page
  await page.getByTestId('edit-mask').click()
  await page.locator('[data-testid="mask-editor"][data-loaded="true"]').waitFor()
  await page.locator('[data-testid="editor-leaves"][data-count="2"]').waitFor()

  // a line across the left leaf, top to bottom at x = 55
  await page.keyboard.press('s')
  await photoPointer(page, 'editor-mask', W, H).drag([
    [55, 20],
    [55, 60],
    [55, 100]
  ])
  const split = await savedLeaves(1)
  assert.equal(split.count, 3)
  assert.notEqual(split.ids[60 * W + 40], split.ids[60 * W + 70], 'the two sides of the line are two leaves')
  assert.notEqual(split.ids[60 * W + 70], split.ids[60 * W + 100], 'the right leaf is untouched')
  assert.deepEqual(
    split.mask,
    Uint8Array.from(twoLeaves(), (v) => (v ? 255 : 0)),
    'splitting changes no leaf pixel'
  )
  await page.mouse.move(5, 5)
  await screenshot(page, 'leaves-02-split')

  // merge the two halves back: click the left one, then the right one
  await page.keyboard.press('m')
  await photoPointer(page, 'editor-mask', W, H).click(40, 60)
  // What to do next is said once (the hint), not again in the status line.
  await page.getByText('Now click the leaf to merge').first().waitFor()
  assert.equal(await page.getByText('Now click the leaf to merge').count(), 1, 'the merge hint is shown once')
  await photoPointer(page, 'editor-mask', W, H).click(70, 60)
  const merged = await savedLeaves(2)
  assert.equal(merged.count, 2)
  assert.equal(merged.ids[60 * W + 40], merged.ids[60 * W + 70], 'one leaf again')

  await page.keyboard.press('Control+z')
  const undone = await savedLeaves(3)
  assert.deepEqual(undone.ids, split.ids, 'undo brings the split back exactly')

  // a new leaf painted on the background with the brush
  await page.getByTestId('new-leaf').click()
  await photoPointer(page, 'editor-mask', W, H).drag([
    [20, 106],
    [80, 106],
    [140, 106]
  ])
  const painted = await savedLeaves(4)
  assert.equal(painted.count, 4)
  assert.ok(painted.ids[106 * W + 80] > 0)
  assert.equal(new Set([painted.ids[106 * W + 80], painted.ids[60 * W + 40], painted.ids[60 * W + 70], painted.ids[60 * W + 100]]).size, 4, 'a leaf of its own')
  // a stroke that starts on a leaf extends that leaf
  await page.keyboard.press('b')
  await photoPointer(page, 'editor-mask', W, H).drag([
    [100, 60],
    [100, 96]
  ])
  const extended = await savedLeaves(5)
  assert.equal(extended.count, 4)
  assert.equal(extended.ids[94 * W + 100], extended.ids[60 * W + 100], 'the right leaf grew')
  const detail = await callApi(state.t.host, 'photos.get', { id: photoId })
  assert.equal(detail.value.mask.leaves, 4)
  await page.mouse.move(5, 5)
  await screenshot(page, 'leaves-03-editor')
  await page.getByTestId('editor-done').click()
  await page.getByTestId('layer-leaves').click()
  await page.waitForFunction(() => /Leaves \(4\)/.test(document.querySelector('[data-testid="layer-leaves"]')?.textContent ?? ''))
})
