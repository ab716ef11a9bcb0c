// Separating leaves in Chromium: the Training view's switch starts a run that separates leaves; its evaluation
// shows SBD, |DiC|, DiC and FBD (in percent everywhere) with the gallery worst by SBD, and the threshold slider moves
// them; the inspector draws the leaves it predicted, each in its own colour; Compare has a "Separate leaves" row and
// the runs' SBD and |DiC|; its predictions count Leaves where a binary run's count Regions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { JobInfo } from '../../src/shared/api/jobs'
import { readInstanceFile } from '../../src/main/core/datasets/instances'
import { screenshot } from '../helpers/browser'
import { browserHost, succeeded } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { tinyConfig, touchingDiscs } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1400, height: 900 })

test('a run that separates leaves: switch, leaf measures, leaves counted', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const wait = (job: JobInfo) => succeeded(t.service, job)
  const src = tempDir()
  const discs = await touchingDiscs(join(src, 'made'), 24, 5)
  for (const dir of ['photos', 'labels']) mkdirSync(join(src, dir))
  for (const d of discs) {
    copyFileSync(d.imagePath, join(src, 'photos', `${d.id}.png`))
    copyFileSync(join(src, 'made', `${d.id}.label.png`), join(src, 'labels', `${d.id}.png`))
  }
  await api['projects.create']({ dir: join(tempDir(), 'leaves'), name: 'Leaves' })
  const datasetId = (await api['datasets.create']({ name: 'Discs' })).id
  await wait(await api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'labels') } }))
  await api['datasets.split']({ datasetId, ratio: [75, 25, 0], seed: 1 })

  // The switch is in the Training view and goes into the run's configuration.
  await page.goto(t.host.url)
  await page.getByTestId('nav-training').click()
  const separate = page.getByTestId('cfg-instances')
  await separate.check()
  await screenshot(page, 'instances-01-training-separate-leaves')

  const config = { ...tinyConfig(20, 5e-3), seed: 2, instances: true }
  const { run, job } = await api['training.start']({ datasetId, name: 'Separated leaves', config })
  await wait(job)
  const binary = await api['training.start']({ datasetId, name: 'Binary', config: tinyConfig(3, 5e-3) })
  await wait(binary.job)
  const evaluated = await wait(await api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
  const evaluationId = (evaluated.result as { evaluationId: number }).evaluationId
  await wait(await api['evaluations.start']({ runId: binary.run.id, checkpoint: 'best', source: 'val' }))
  for (const r of [run.id, binary.run.id])
    await wait(
      await api['predictions.start']({
        runId: r,
        checkpoint: 'best',
        source: { kind: 'folder', dir: join(src, 'photos') },
        threshold: 0.5,
        cutouts: false,
        measure: { minLeafAreaPx: 5, pxPerMm: null }
      })
    )

  await page.goto(t.host.url)
  await page.getByTestId('nav-runs').click()
  await page.locator(`[data-testid="run-row"][data-run-id="${run.id}"]`).click()
  await page.getByTestId('eval-leaves').waitFor()
  assert.match((await page.getByTestId('eval-sbd').textContent()) ?? '', /^\d+\.\d$/)
  assert.ok((await page.getByTestId('eval-photo-sbd').count()) > 0, 'the gallery shows SBD per photo')
  // One scale: the tiles give SBD in percent, as the summary does.
  for (const badge of await page.getByTestId('eval-photo-sbd').all()) assert.match((await badge.textContent()) ?? '', /^SBD (\d|[1-9]\d|100)\.\d · [+-]?\d+$/)
  await page.getByTestId('eval-leaves').scrollIntoViewIfNeeded()
  await screenshot(page, 'instances-02-evaluation-leaf-measures')

  // The slider moves the leaf measures: at 0.9 they are those measured at 0.90.
  assert.match((await page.getByTestId('eval-leaves-threshold').textContent()) ?? '', /at threshold 0\.50/)
  await page.getByTestId('eval-threshold').fill('0.9')
  await page.getByTestId('eval-leaves-threshold').filter({ hasText: 'at threshold 0.90' }).waitFor()
  const at90 = (await api['evaluations.get']({ id: evaluationId, threshold: 0.9 })).instances!
  assert.equal(await page.getByTestId('eval-fbd').textContent(), (at90.fbd * 100).toFixed(1))
  assert.equal(await page.getByTestId('eval-sbd').textContent(), (at90.sbd * 100).toFixed(1))
  await screenshot(page, 'instances-03-evaluation-leaves-at-0.9')

  // The inspector draws the leaves the run predicted for a photo, each in its own colour, and reads them out.
  // (the gallery's first photo: the worst at the slider's threshold)
  const first = (await api['evaluations.get']({ id: evaluationId, threshold: 0.9 })).perPhoto[0]
  const leaves = await readInstanceFile(join(t.service.requireProject().project.dir, first.predictedLeaves!.file))
  await page.getByTestId('eval-photo').first().click()
  await page.getByTestId('inspector').waitFor()
  await page.getByTestId('inspector-name').filter({ hasText: first.name }).waitFor()
  await page
    .getByTestId('layer-predicted-leaves')
    .filter({ hasText: `Predicted leaves (${leaves.count})` })
    .click()
  assert.match((await page.getByTestId('layer-note').textContent()) ?? '', new RegExp(`^${leaves.count} (leaf|leaves) separated by the run at threshold 0\\.5`))
  // A pixel inside a predicted leaf (its four neighbours in the same leaf), found in the kept leaf image.
  const inside = leaves.ids.findIndex((v, i) => v > 0 && [i - 1, i + 1, i - leaves.width, i + leaves.width].every((j) => leaves.ids[j] === v))
  assert.ok(inside >= 0, 'a leaf was predicted')
  const box = (await page.getByTestId('inspector-canvas').boundingBox())!
  const scale = Math.min(box.width / leaves.width, box.height / leaves.height)
  const at = (x: number, y: number) => ({
    x: box.x + (box.width - leaves.width * scale) / 2 + (x + 0.5) * scale,
    y: box.y + (box.height - leaves.height * scale) / 2 + (y + 0.5) * scale
  })
  const point = at(inside % leaves.width, Math.floor(inside / leaves.width))
  await page.mouse.move(point.x, point.y)
  await page
    .getByTestId('readout')
    .filter({ hasText: `leaf ${leaves.ids[inside]}` })
    .waitFor()
  await screenshot(page, 'instances-04-inspector-predicted-leaves')
  await page.getByTestId('inspector-close').click()

  // Compare: which run separates leaves, and their leaf measures.
  await page.getByTestId('nav-compare').click()
  for (const id of [run.id, binary.run.id]) await page.locator(`[data-testid="compare-run"][data-run-id="${id}"]`).check()
  const separateRow = page.getByTestId('setting-row').filter({ hasText: 'Separate leaves' })
  await separateRow.waitFor()
  assert.deepEqual(await separateRow.locator('td').allTextContents(), ['yes', 'no'])
  assert.equal(await separateRow.getAttribute('data-differs'), 'true')
  const at50 = (await api['evaluations.get']({ id: evaluationId, threshold: 0.5 })).instances!
  assert.deepEqual(await page.getByTestId('compare-sbd').locator('td').allTextContents(), [(at50.sbd * 100).toFixed(1), '–'])
  assert.deepEqual(await page.getByTestId('compare-absdic').locator('td').allTextContents(), [at50.absDic.toFixed(2), '–'])
  await page.getByTestId('compare-sbd').scrollIntoViewIfNeeded()
  await screenshot(page, 'instances-05-compare-separate-leaves')

  await page.getByTestId('nav-predict').click()
  const headers: string[] = []
  for (const name of ['Separated leaves', 'Binary']) {
    await page.getByTestId('predict-batch').filter({ hasText: name }).first().click()
    await page
      .getByTestId('predict-count-header')
      .filter({ hasText: name === 'Binary' ? 'Regions' : 'Leaves' })
      .waitFor()
    headers.push((await page.getByTestId('predict-count-header').textContent())!.trim())
    await screenshot(page, `instances-0${headers.length + 5}-predict-${name === 'Binary' ? 'regions' : 'leaves'}`)
  }
  assert.deepEqual(headers, ['Leaves', 'Regions'])

  // The prediction viewer of a run that separates leaves opens on its leaves, each in its own colour.
  await page.getByTestId('predict-batch').filter({ hasText: 'Separated leaves' }).first().click()
  await page.getByTestId('predict-photo-row').first().getByRole('button').first().click()
  await page.getByTestId('predict-viewer').waitFor()
  assert.equal(await page.getByTestId('predict-viewer-leaves').isChecked(), true)
  await screenshot(page, 'instances-08-predict-viewer-leaves')
  await page.getByTestId('predict-viewer-close').click()

  // Pre-labelled with the run, a photo comes to review with its leaves, not "This mask does not separate its leaves".
  const fresh = (await api['datasets.create']({ name: 'New discs' })).id
  await wait(await api['datasets.importPhotos']({ datasetId: fresh, paths: [join(src, 'photos')] }))
  await wait(await api['labels.prelabel']({ datasetId: fresh, runId: run.id }))
  await page.getByTestId('nav-datasets').click()
  await page.getByTestId('dataset-tab').filter({ hasText: 'New discs' }).click()
  await page.getByTestId('open-review').click()
  await page.getByTestId('review-open').first().click()
  await page.getByTestId('inspector').waitFor()
  // the name shows once the photo has loaded
  await page.getByTestId('inspector-name').filter({ hasText: /\S/ }).waitFor()
  const name = (await page.getByTestId('inspector-name').textContent())!
  const photo = (await api['datasets.photos']({ datasetId: fresh, offset: 0, limit: 100, filter: {}, sort: 'name' })).photos.find((p) => p.name === name)!
  const detail = await api['photos.get']({ id: photo.id })
  assert.ok(detail.mask?.leaves, `${name}: pre-labelled with its leaves`)
  await page
    .getByTestId('layer-leaves')
    .filter({ hasText: `Leaves (${detail.mask.leaves})` })
    .click()
  assert.equal(await page.getByText('This mask does not separate its leaves').count(), 0)
  await screenshot(page, 'instances-09-review-prelabelled-leaves')
})
