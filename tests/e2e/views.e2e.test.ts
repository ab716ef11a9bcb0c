// The views at 1440×900 with a real mouse and keyboard, in light and dark: the photo grid (masks on thumbnails,
// size, more than two rows, selecting without moving anything, a drop target), the mask dialog taking a drop,
// the inspector's words and legends, Compare's first photo and error panes, chart hover and zoom, the `?`
// overlays, previous/next in the prediction viewer, and dark mode following the system.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { TrainingConfig } from '../../src/shared/api/training'
import { canvasesDrawn, screenshot } from '../helpers/browser'
import { browserHost, succeeded } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'
import { makePhotos } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1440, height: 900 })

const tiny = (extra: Partial<TrainingConfig>): TrainingConfig => ({
  preset: 'custom',
  inputSize: 32,
  baseFilters: 8,
  depth: 2,
  batchSize: 4,
  epochs: 3,
  learningRate: 5e-3,
  loss: 'bce+dice',
  patience: 0,
  seed: 3,
  augment: { flips: true, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false },
  ...extra
})

/** The view as it is, then the same in dark mode (the system's setting, emulated). */
async function both(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    await waitFor(() => page.evaluate((s) => matchMedia(`(prefers-color-scheme: ${s})`).matches, scheme), { what: `${name}: the page in the ${scheme} scheme` })
    await canvasesDrawn(page, name, 0)
    await screenshot(page, `${name}-${scheme}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

test('the views at 1440×900: grid, drops, inspector, compare, charts, shortcuts, prediction viewer, dark mode', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const wait = (job: JobInfo) => succeeded(t.service, job)

  // 40 photos with masks, 30 to train and 10 to validate; two tiny runs, both evaluated; a prediction batch.
  const dir = tempDir()
  const samples = await makePhotos(join(dir, 'photos'), 40, { width: 64, height: 48, seed: 11 })
  mkdirSync(join(dir, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(dir, 'masks', `${s.id}.png`))
  const spareMask = join(dir, 'masks', `${samples[0].id}.png`)
  await api['projects.create']({ dir: join(tempDir(), 'Views'), name: 'Views' })
  const dataset = await api['datasets.create']({ name: 'Seedlings' })
  await wait(await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(dir, 'masks') } }))
  const { photos } = await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 100, filter: {}, sort: 'name' })
  await api['datasets.split']({ datasetId: dataset.id, photoIds: photos.slice(0, 30).map((p) => p.id), split: 'train' })
  await api['datasets.split']({ datasetId: dataset.id, photoIds: photos.slice(30).map((p) => p.id), split: 'val' })
  const runIds: number[] = []
  for (const [name, extra] of [
    ['Fast learner, a long descriptive name', { learningRate: 5e-3 }],
    ['Slow learner', { learningRate: 1e-3, loss: 'bce' as const }]
  ] as const) {
    const { run, job } = await api['training.start']({ datasetId: dataset.id, name, config: tiny(extra), backend: 'wasm' })
    await wait(job)
    await wait(await api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
    runIds.push(run.id)
  }
  await wait(
    await api['predictions.start']({
      runId: runIds[0],
      checkpoint: 'best',
      source: { kind: 'dataset', datasetId: dataset.id },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 5, pxPerMm: null }
    })
  )

  await page.goto(t.host.url)
  await page.getByTestId('project-name').filter({ hasText: 'Views' }).waitFor()

  // Dark mode follows the system.
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
  const light = await background()
  await page.emulateMedia({ colorScheme: 'dark' })
  const dark = await background()
  assert.notEqual(dark, light)
  const [r, g, b] = dark.match(/\d+/g)!.map(Number)
  assert.ok(r + g + b < 150, `a dark background: ${dark}`)
  await page.emulateMedia({ colorScheme: 'light' })

  // The grid: more than two rows at 1440×900, and a drop target although the dataset has photos.
  await page.getByTestId('grid-count').filter({ hasText: '40 shown' }).waitFor()
  await page.getByTestId('photo-cell').nth(20).waitFor()
  const fullRows = async () => {
    const boxes = await page
      .getByTestId('photo-cell')
      .evaluateAll((cells) => cells.map((c) => c.getBoundingClientRect()).map((r) => ({ top: r.top, bottom: r.bottom })))
    return new Set(boxes.filter((x) => x.bottom <= 900).map((x) => Math.round(x.top))).size
  }
  assert.ok((await fullRows()) > 2, `rows in view: ${await fullRows()}`)
  assert.ok(await page.getByTestId('drop-target').isVisible())

  // Selecting photos neither wraps the toolbar nor moves the grid.
  const grid = page.getByTestId('photo-grid')
  const before = await grid.boundingBox()
  await page.keyboard.down('Control')
  await page.getByTestId('photo-cell').nth(1).click()
  await page.getByTestId('photo-cell').nth(2).click()
  await page.keyboard.up('Control')
  await page.getByTestId('selection-bar').filter({ hasText: '2 selected' }).waitFor()
  assert.deepEqual(await grid.boundingBox(), before, 'the grid stays where it was')
  await both(page, 'views-01-datasets-selected')
  await page.getByTestId('selection-bar').getByRole('button', { name: 'clear' }).click()

  // Masks over the thumbnails, outlined; bigger thumbnails.
  await page.getByTestId('thumb-masks').selectOption('outline')
  await page.getByTestId('thumb-mask').first().waitFor()
  const painted = (await (
    await page.waitForFunction(() => {
      const canvas = document.querySelector('[data-testid="thumb-mask"]') as HTMLCanvasElement
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      let n = 0
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
      return n > 0 && { n, all: canvas.width * canvas.height }
    })
  ).jsonValue()) as { n: number; all: number }
  assert.ok(painted.n > 0 && painted.n < painted.all / 2, `an outline, not a fill: ${painted.n} of ${painted.all}`)
  const width = async () => (await page.getByTestId('photo-cell').first().boundingBox())!.width
  const small = await width()
  await page.getByTestId('thumb-size').fill('240')
  await page.waitForFunction((w) => document.querySelector('[data-testid="photo-cell"]')!.getBoundingClientRect().width > w + 50, small)
  await both(page, 'views-02-datasets-masks-outlined-large')
  await page.getByTestId('thumb-size').fill('150')
  await page.getByTestId('thumb-masks').selectOption('fill')

  // The `?` overlay lists the view's shortcuts.
  await page.locator('body').click({ position: { x: 700, y: 30 } })
  await page.keyboard.press('?')
  const viewKeys = page.getByTestId('shortcuts').filter({ hasText: 'Datasets shortcuts' })
  await viewKeys.waitFor()
  assert.match((await viewKeys.textContent()) ?? '', /Shift\+click/)
  await both(page, 'views-03-datasets-shortcuts')
  await page.keyboard.press('?')
  await viewKeys.waitFor({ state: 'hidden' })

  // The mask dialog takes a dropped folder (here: a mask file, copied to the server as a browser must).
  await page.getByTestId('import-masks').click()
  const maskFile = { name: 'leaf.png', base64: readFileSync(spareMask).toString('base64') }
  await page.evaluate(async (f) => {
    const transfer = new DataTransfer()
    transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }))
    const target = document.querySelector('[data-testid="masks-drop"]')!
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }))
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, maskFile)
  await page.waitForFunction(() => (document.querySelector('[data-testid="mask-dir"]') as HTMLInputElement).value !== '')
  await both(page, 'views-04-masks-dialog-dropped')
  await page.getByTestId('masks-dialog').getByRole('button', { name: 'Close' }).click()

  // The inspector: the trimap's legend, values that give no trimap, the pixel in words, where layers come from.
  await page.getByTestId('photo-cell').first().click()
  await page.getByTestId('inspector').waitFor()
  const stage = (await page.getByTestId('inspector-canvas').boundingBox())!
  await page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height / 2)
  await page
    .getByTestId('readout')
    .filter({ hasText: /x \d+, y \d+ · (leaf|background)$/ })
    .waitFor()
  assert.match((await page.locator('li', { has: page.getByTestId('layer-errors') }).textContent()) ?? '', /evaluate it/)
  await page.getByTestId('layer-trimap').click()
  assert.match((await page.getByTestId('layer-legend').textContent()) ?? '', /Leaf for sure.*Unknown band.*Background for sure/)
  await page.getByTestId('trimap-fixed').check() // the sliders belong to fixed values; the default fits the leaves
  await page.getByTestId('trimap-fg').fill('1')
  await page.getByTestId('trimap-bg').fill('1')
  await page.mouse.move(stage.x + stage.width / 2 + 1, stage.y + stage.height / 2)
  await page
    .getByTestId('readout')
    .filter({ hasText: /· (leaf for sure|unknown band|background for sure)$/ })
    .waitFor()
  await page.getByTestId('trimap-fg').fill('30')
  await page.getByTestId('layer-invalid').waitFor()
  assert.match((await page.getByTestId('layer-invalid').textContent()) ?? '', /No trimap for these values/)
  await both(page, 'views-05-inspector-invalid-trimap')
  await page.getByTestId('trimap-fg').fill('1')
  await page.getByTestId('layer-invalid').waitFor({ state: 'detached' })
  await page.keyboard.press('?')
  const inspectorKeys = page.getByTestId('shortcuts').filter({ hasText: 'Inspector shortcuts' })
  await inspectorKeys.waitFor()
  await both(page, 'views-05b-inspector-shortcuts')
  await page.keyboard.press('Escape')
  await inspectorKeys.waitFor({ state: 'hidden' })
  await page.keyboard.press('Escape')
  await page.getByTestId('inspector').waitFor({ state: 'detached' })

  // Training and Runs: the curves answer the pointer and zoom by dragging.
  await page.getByTestId('nav-training').click()
  await page.getByTestId('current-run').waitFor()
  await both(page, 'views-06-training')
  await page.getByTestId('nav-runs').click()
  await page.getByTestId('run-row').first().click()
  const chart = page.getByTestId('run-detail').getByTestId('chart-loss')
  await chart.scrollIntoViewIfNeeded()
  const plot = (await chart.locator('.u-over').boundingBox())!
  await page.mouse.move(plot.x + plot.width * 0.02, plot.y + plot.height / 2)
  await chart
    .getByTestId('chart-readout')
    .filter({ hasText: /Epoch 1\s*train \d\.\d{3}\s*validation \d\.\d{3}/ })
    .waitFor()
  await page.mouse.move(plot.x + plot.width * 0.98, plot.y + plot.height / 2)
  await chart
    .getByTestId('chart-readout')
    .filter({ hasText: /Epoch 3/ })
    .waitFor()
  await page.mouse.move(plot.x + plot.width * 0.05, plot.y + plot.height / 2)
  await page.mouse.down()
  await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2, { steps: 5 })
  await page.mouse.up()
  await chart.getByText('zoomed').waitFor()
  await both(page, 'views-07-runs-chart-zoomed')
  await page.mouse.dblclick(plot.x + plot.width / 2, plot.y + plot.height / 2)
  await chart.getByText('zoomed').waitFor({ state: 'detached' })

  // Compare opens the photo on which the runs differ most, with the mask and each run's errors.
  await page.getByTestId('nav-compare').click()
  for (const id of runIds) await page.locator(`[data-testid="compare-run"][data-run-id="${id}"]`).check()
  const compared = await api['runs.compare']({ runIds })
  const gap = (iou: (number | null)[]) => (iou[0] !== null && iou[1] !== null ? Math.abs(iou[1] - iou[0]) : -1)
  const mostDifferent = [...compared.perPhoto].sort((a, b) => gap(b.iou) - gap(a.iou))[0].name
  await page.getByTestId('compare-photo-name').filter({ hasText: mostDifferent }).waitFor()
  assert.equal(await page.locator('thead th[title="Fast learner, a long descriptive name"]').count(), 1, 'the full name on hover')
  await page.getByTestId('compare-truth').scrollIntoViewIfNeeded()
  await both(page, 'views-08-compare-errors')

  // The prediction viewer steps through the batch.
  await page.getByTestId('nav-predict').click()
  await page.getByTestId('predict-batch').first().click()
  await page.getByTestId('predict-photo-row').first().waitFor()
  await page.getByTestId('predict-photo-row').first().locator('.thumb').click()
  await page.getByTestId('predict-viewer').waitFor()
  await page.getByTestId('predict-viewer-position').filter({ hasText: '1 of 40' }).waitFor()
  await page.getByTestId('predict-viewer-next').click()
  await page.getByTestId('predict-viewer-position').filter({ hasText: '2 of 40' }).waitFor()
  await page.keyboard.press('ArrowRight')
  await page.getByTestId('predict-viewer-position').filter({ hasText: '3 of 40' }).waitFor()
  await page.keyboard.press('ArrowLeft')
  await page.getByTestId('predict-viewer-position').filter({ hasText: '2 of 40' }).waitFor()
  await both(page, 'views-09-prediction-viewer')
  await page.keyboard.press('Escape')
  await page.getByTestId('predict-viewer').waitFor({ state: 'detached' })
  await both(page, 'views-10-predict')
})
