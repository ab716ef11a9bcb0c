// Evaluation, Compare and Predict end to end in Chromium: two tiny runs with different settings trained and
// evaluated through the service, then compared, a dropped folder predicted and exported, the threshold moved.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { TrainingConfig } from '../../src/shared/api/training'
import { measurementColumns } from '../../src/main/core/prediction/csv'
import { canvasesDrawn, screenshot } from '../helpers/browser'
import { browserHost, succeeded } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'
import { makePhotos } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1400, height: 900 })

/** The small network the training tests use: a few seconds per run. */
const tiny = (extra: Partial<TrainingConfig>): TrainingConfig => ({
  preset: 'custom',
  inputSize: 32,
  baseFilters: 8,
  depth: 2,
  batchSize: 4,
  epochs: 8,
  learningRate: 5e-3,
  loss: 'bce+dice',
  patience: 0,
  seed: 3,
  augment: { flips: true, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false },
  ...extra
})

test('compare two runs, predict a dropped folder and export CSV, move the evaluation threshold', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const wait = (job: JobInfo) => succeeded(t.service, job)
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 24, { width: 64, height: 48, seed: 11 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  await api['projects.create']({ dir: join(tempDir(), 'evaluation'), name: 'Evaluation' })
  const datasetId = (await api['datasets.create']({ name: 'Shapes' })).id
  await wait(await api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await api['datasets.split']({ datasetId, ratio: [60, 25, 15], seed: 1 })
  const unlabelled = (await api['datasets.create']({ name: 'New leaves' })).id
  for (const s of await makePhotos(join(src, 'new leaves'), 3, { width: 64, height: 48, seed: 5 })) rmSync(s.maskPath)
  await wait(await api['datasets.importPhotos']({ datasetId: unlabelled, paths: [join(src, 'new leaves')] }))
  const runIds: number[] = []
  for (const [name, config] of [
    ['BCE+Dice, lr 0.005', tiny({})],
    ['Dice only, lr 0.002', tiny({ learningRate: 2e-3, loss: 'dice' })]
  ] as const) {
    const { run, job } = await api['training.start']({ datasetId, name, config })
    await wait(job)
    runIds.push(run.id)
    if (runIds.length === 2) continue
    // The second run is evaluated from the Compare view, and trains with one validation photo moved to
    // training: the runs' snapshots differ.
    await wait(await api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
    const { photos: val } = await api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: { split: 'val' }, sort: 'name' })
    await api['datasets.split']({ datasetId, photoIds: [val[0].id], split: 'train' })
  }

  const clearNotices = async () => {
    // Info notices also go by themselves: click whichever is still there.
    const buttons = page.locator('[data-testid^="notice-"] button')
    while ((await buttons.count()) > 0)
      await buttons
        .first()
        .click({ timeout: 1000 })
        .catch(() => undefined)
  }

  // Compare: both runs, their curves, the per-photo table, side-by-side predictions.
  await page.goto(t.host.url)
  await page.getByTestId('nav-compare').click()
  for (const id of runIds) await page.locator(`[data-testid="compare-run"][data-run-id="${id}"]`).check()
  await page.getByTestId('compare-settings').waitFor()
  await page.getByTestId('evaluate-missing').click()
  await page.getByTestId('not-evaluated').waitFor({ state: 'detached', timeout: 60_000 })
  await page.getByTestId('different-snapshots').waitFor()
  const differing = await page.locator('[data-testid="setting-row"][data-differs="true"] th').allTextContents()
  assert.ok(differing.includes('Learning rate') && differing.includes('Loss'), `differences highlighted: ${differing.join(', ')}`)
  assert.equal(await page.getByTestId('compare-chart').count(), 4)
  assert.equal(await page.getByTestId('compare-chart').first().getByTestId('curve').count(), 2, 'one validation IoU curve per run')
  const rows = page.getByTestId('compare-photo-row')
  await rows.first().waitFor()
  const valPhotos = (await api['runs.get']({ id: runIds[0] })).valPhotos
  assert.equal(await rows.count(), valPhotos, 'one row per validation photo of either run')
  const moved = await rows.filter({ hasText: '–' }).count()
  assert.equal(moved, 1, 'the photo the second run trained on has no IoU from it')
  const cells = await rows.first().locator('td.num').allTextContents()
  assert.equal(cells.length, 3, 'an IoU per run and the difference')
  assert.match(cells[0], /^\d\.\d{3}$/)
  // The photo on which the two runs differ most opens first, with the mask and each run's errors beside it.
  const compared = await api['runs.compare']({ runIds })
  const gap = (iou: (number | null)[]) => (iou[0] !== null && iou[1] !== null ? Math.abs(iou[1] - iou[0]) : -1)
  const mostDifferent = [...compared.perPhoto].sort((a, b) => gap(b.iou) - gap(a.iou))[0].name
  await page.getByTestId('compare-photo-name').filter({ hasText: mostDifferent }).waitFor()
  await page.getByTestId('compare-truth').waitFor()
  assert.match((await page.getByTestId('compare-error-legend').textContent()) ?? '', /true positive.*false positive.*false negative/)
  // Run colours are none of the error colours.
  const runColours = await page.locator('.legend .dot').evaluateAll((dots) => dots.map((d) => getComputedStyle(d).backgroundColor))
  for (const c of runColours) assert.ok(!['rgb(0, 114, 178)', 'rgb(213, 94, 0)', 'rgb(240, 228, 66)'].includes(c), `run colour ${c}`)
  // Full names on hover where they are cut short.
  assert.deepEqual(
    await page.locator('.per-photo thead button[title]:not([data-testid])').evaluateAll((b) => b.map((x) => x.getAttribute('title')!.split(':')[0])),
    compared.runs.map((r) => r.name)
  )
  await page.getByTestId('compare-canvas').first().scrollIntoViewIfNeeded()
  await screenshot(page, 'evaluation-02b-compare-most-different-errors')
  await page.getByTestId('sort-difference').click()
  await rows.nth(1).click()
  const canvases = page.getByTestId('compare-canvas').locator('canvas')
  assert.equal(await canvases.count(), 2, 'one canvas per run')
  await canvasesDrawn(page, 'the chosen photo compared', 2)
  const pixels = () => canvases.evaluateAll((list) => list.map((c) => (c as HTMLCanvasElement).toDataURL()))
  const before = await pixels()
  await canvases.first().hover()
  await page.mouse.wheel(0, -400)
  // The wheel event reaches the page on its own time: wait for both canvases to change (zooming one zooms both).
  await waitFor(
    async () => {
      const after = await pixels()
      return after[0] !== before[0] && after[1] !== before[1]
    },
    { what: 'both compare canvases to zoom after a wheel over the first' }
  )
  await page.getByTestId('compare-settings').scrollIntoViewIfNeeded()
  await screenshot(page, 'evaluation-01-compare-settings')
  await page.getByTestId('compare-chart').last().scrollIntoViewIfNeeded()
  await screenshot(page, 'evaluation-02-compare-curves')
  await page.getByTestId('compare-canvas').first().scrollIntoViewIfNeeded()
  await screenshot(page, 'evaluation-03-compare-per-photo-side-by-side')

  // Predict: a dropped folder of new photos, the measurements table, the CSV.
  await page.getByTestId('nav-predict').click()
  await page.getByTestId('predict-run').selectOption(String(runIds[0]))
  const fresh = await makePhotos(join(tempDir(), 'new'), 3, { width: 96, height: 72, seed: 99 })
  const files = fresh.map((s) => ({ name: s.imagePath.split('/').pop()!, base64: readFileSync(s.imagePath).toString('base64') }))
  await page.evaluate(async (list) => {
    const transfer = new DataTransfer()
    for (const f of list) transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }))
    const target = document.querySelector('[data-testid="view-predict"]')!
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }))
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, files)
  await page.waitForFunction(() => (document.querySelector('[data-testid="predict-folder"]') as HTMLInputElement).value !== '')
  await page.getByTestId('predict-min-area').fill('5')
  await page.getByTestId('predict-scale').fill('4')
  await screenshot(page, 'evaluation-04-predict-setup')
  await page.getByTestId('predict-start').click()
  await page.locator('[data-testid="job"][data-kind="predict"][data-status="succeeded"]').waitFor({ timeout: 60_000 })
  const photoRows = page.getByTestId('predict-photo-row')
  await photoRows.nth(2).waitFor()
  assert.equal(await photoRows.count(), 3)
  const csv = join(tempDir(), 'leaf areas.csv')
  await page.getByTestId('predict-csv-file').fill(csv)
  await page.getByTestId('predict-export').click()
  await page.getByTestId('notice-info').filter({ hasText: 'Wrote 3 rows' }).waitFor()
  assert.ok(existsSync(csv), 'the CSV was written')
  const lines = readFileSync(csv, 'utf8').trim().split('\n')
  assert.equal(lines[0], measurementColumns(false).join(','))
  assert.equal(lines.length, 4)
  // The same measurements for the hand-made masks of a dataset.
  const labelledCsv = join(tempDir(), 'labelled.csv')
  await page.getByTestId('measure-dataset').selectOption(String(datasetId))
  await page.getByTestId('measure-file').fill(labelledCsv)
  await page.getByTestId('measure-start').click()
  await page.getByTestId('notice-info').filter({ hasText: 'Wrote 24 rows' }).waitFor({ timeout: 30_000 })
  assert.equal(readFileSync(labelledCsv, 'utf8').split('\n')[0], measurementColumns(false).join(','))
  await clearNotices()
  await page.locator('main').evaluate((m) => m.scrollTo(0, m.scrollHeight))
  await screenshot(page, 'evaluation-05-predict-results')
  await photoRows.first().locator('.thumb').click()
  await page.getByTestId('predict-viewer').waitFor()
  await canvasesDrawn(page, 'the prediction viewer')
  await screenshot(page, 'evaluation-06-predict-viewer')
  await page.getByTestId('predict-viewer-close').click()

  // A dataset's photos without masks: predicted, accepted as labels, then confirmed by a person in the inspector.
  await page.getByTestId('predict-source-dataset').check()
  await page.getByTestId('predict-dataset').selectOption(String(unlabelled))
  await page.getByTestId('predict-start').click()
  await page.locator('[data-testid="job"][data-kind="predict"][data-status="succeeded"]').nth(1).waitFor({ timeout: 60_000 })
  await page.getByTestId('accept-all').waitFor()
  await page.getByTestId('accept-all').click()
  await page.getByTestId('confirm-accept-yes').click()
  await page.getByTestId('notice-info').filter({ hasText: '3 predicted masks are now labels' }).waitFor()
  assert.equal((await api['datasets.list']({})).find((d) => d.id === unlabelled)?.labelled, 3)
  await page.getByTestId('predict-photo-row').first().locator('.thumb').click()
  await page.getByTestId('predict-open-inspector').click()
  await page.getByTestId('model-made').waitFor()
  await clearNotices()
  await screenshot(page, 'evaluation-07-inspector-model-made')
  await page.getByTestId('confirm-mask').click()
  await page.getByTestId('model-made').waitFor({ state: 'detached' })
  assert.doesNotMatch((await page.getByTestId('inspector').locator('header').textContent()) ?? '', /model-made/)
  const confirmedName = await page.getByTestId('inspector-name').textContent()
  const { photos: accepted } = await api['datasets.photos']({ datasetId: unlabelled, offset: 0, limit: 10, filter: {}, sort: 'name' })
  const confirmed = await api['photos.get']({ id: accepted.find((p) => p.name === confirmedName)!.id })
  assert.equal(confirmed.mask?.modelMade, false, 'the confirmed mask is no longer model-made')
  await page.getByTestId('inspector-close').click()

  // The dataset batch is deleted with its files; the masks accepted from it stay with the dataset.
  const batchesBefore = await page.getByTestId('predict-batch').count()
  await page.getByTestId('predict-delete').click()
  await page.getByTestId('confirm-delete-batch').waitFor()
  await screenshot(page, 'evaluation-08-predict-delete-confirm')
  await page.getByTestId('confirm-delete-batch-yes').click()
  await page.getByTestId('notice-info').filter({ hasText: 'Deleted the predictions' }).waitFor()
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="predict-batch"]').length === n - 1, batchesBefore)
  assert.equal((await api['predictions.list']({})).length, batchesBefore - 1)
  assert.equal((await api['datasets.list']({})).find((d) => d.id === unlabelled)?.labelled, 3)

  // The evaluation panel: figures follow the threshold; the error gallery opens the inspector with its layers.
  await page.getByTestId('nav-runs').click()
  // The runs table filters by text and sorts by any column.
  await page.getByTestId('runs-filter').fill('Dice only')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="run-row"]').length === 1)
  await page.getByTestId('runs-filter').fill('')
  await page.getByTestId('sort-bestValIoU').click()
  const byIoU = await page.getByTestId('run-row').evaluateAll((rows) => rows.map((r) => Number(r.querySelectorAll('td')[6].textContent)))
  assert.deepEqual(
    byIoU,
    [...byIoU].sort((a, b) => b - a),
    'sorted by best validation IoU, highest first'
  )
  await screenshot(page, 'evaluation-00-runs-table-sorted')
  await page.locator(`[data-testid="run-row"][data-run-id="${runIds[0]}"]`).click()
  const scores = page.getByTestId('eval-scores')
  await scores.waitFor()
  const at05 = await scores.textContent()
  // What the figures measure, in the words `leafseg eval` uses (so training's validation IoU can be matched to them).
  assert.match(
    (await page.getByTestId('evaluation-measure').textContent()) ?? '',
    /Measured on full-resolution photos, threshold 0\.5; pooled: pixels of all photos together, per-photo mean: each photo weighs the same\./
  )
  await page.getByTestId('eval-threshold').fill('0.1')
  await page.waitForFunction((old) => document.querySelector('[data-testid="eval-scores"]')?.textContent !== old, at05)
  assert.match((await page.getByTestId('eval-threshold-value').textContent()) ?? '', /^0\.10\d$/)
  await page.getByTestId('eval-photo-errors').first().waitFor()
  await clearNotices()
  await page.getByTestId('evaluation-panel').scrollIntoViewIfNeeded()
  await screenshot(page, 'evaluation-08-panel-threshold')
  // The worst photo's error overlay, computed in the browser, has exactly the evaluation's counts at this threshold.
  const evaluationId = (await api['evaluations.list']({ runId: runIds[0] }))[0].id
  const worst = (await api['evaluations.get']({ id: evaluationId, threshold: 0.1 })).perPhoto[0]
  const counts = await page
    .getByTestId('eval-photo-errors')
    .first()
    .evaluate(async (img: HTMLImageElement) => {
      await img.decode()
      const canvas = document.createElement('canvas')
      canvas.width = img.naturalWidth
      canvas.height = img.naturalHeight
      const ctx = canvas.getContext('2d')!
      ctx.drawImage(img, 0, 0)
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data
      const found = { tp: 0, fp: 0, fn: 0 }
      for (let i = 0; i < px.length; i += 4) {
        const rgb = `${px[i]},${px[i + 1]},${px[i + 2]},${px[i + 3]}`
        if (rgb === '0,114,178,255') found.tp++
        else if (rgb === '213,94,0,255') found.fp++
        else if (rgb === '240,228,66,255') found.fn++
      }
      return found
    })
  assert.deepEqual(counts, { tp: worst.truePositive, fp: worst.falsePositive, fn: worst.falseNegative })
  const ious = (await page.getByTestId('eval-photo-iou').allTextContents()).map((s) => Number(s.replace('IoU ', '')))
  assert.deepEqual(
    ious,
    [...ious].sort((a, b) => a - b),
    'worst first'
  )
  await page.getByTestId('eval-photo').first().click()
  await page.getByTestId('inspector').waitFor()
  await page.waitForFunction(() => !(document.querySelector('[data-testid="layer-errors"] input') as HTMLInputElement | null)?.disabled)
  await page.getByTestId('layer-legend').waitFor()
  await page.getByTestId('opacity').fill('0.7')
  await canvasesDrawn(page, 'the Errors layer in the inspector')
  await screenshot(page, 'evaluation-09-inspector-errors')
  await page.getByTestId('layer-prediction').locator('input').check()
  await canvasesDrawn(page, 'the Prediction layer in the inspector')
  await screenshot(page, 'evaluation-10-inspector-prediction')
  await page.getByTestId('inspector-close').click()
  assert.equal(await page.getByTestId('notice-error').count(), 0, 'no error was shown')
})
