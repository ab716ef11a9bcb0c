// Training end to end in Chromium: augmented samples, a tiny run started from the Training view with its
// curves growing, cancel, resume, and the run in the Runs view.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { browserMissing, launchBrowser, screenshot } from '../helpers/browser'
import { startTestHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'
import { finishRun, setRunBackend, setRunEpochs } from '../../src/main/core/training/records'
import { defaultWorkers } from '../../src/main/core/model/worker-pool'

const skip = browserMissing()
let t: Awaited<ReturnType<typeof startTestHost>>
let browser: Browser
let page: Page

before(async () => {
  if (skip) return
  t = await startTestHost()
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
})
after(async () => {
  if (skip) return
  await browser.close()
  await t.stop()
})

/** A project with 24 training and 6 validation photos with masks, made through the API. */
async function prepareProject(): Promise<void> {
  const api = t.service.api
  const dir = tempDir()
  const samples = await makePhotos(join(dir, 'photos'), 30, { width: 48, height: 40, seed: 7 })
  mkdirSync(join(dir, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(dir, 'masks', `${s.id}.png`))
  await api['projects.create']({ dir: join(tempDir(), 'Training e2e'), name: 'Training e2e' })
  const dataset = await api['datasets.create']({ name: 'Generated leaves' })
  const wait = async (p: Promise<{ id: number }>) => t.service.requireProject().jobs.wait((await p).id)
  await wait(api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))
  await wait(api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(dir, 'masks') } }))
  const { photos } = await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 100, filter: {}, sort: 'name' })
  await api['datasets.split']({ datasetId: dataset.id, photoIds: photos.slice(0, 24).map((p) => p.id), split: 'train' })
  await api['datasets.split']({ datasetId: dataset.id, photoIds: photos.slice(24).map((p) => p.id), split: 'val' })
}

const epochsShown = async (p: Page) => Number(await p.getByTestId('run-charts').first().getAttribute('data-epochs'))

test('train from the Training view: samples, live curves, cancel, resume, then the Runs view', { skip: skip ?? false }, async () => {
  await prepareProject()
  await page.goto(t.host.url)
  await page.getByTestId('project-name').filter({ hasText: 'Training e2e' }).waitFor()
  await page.getByTestId('nav-training').click()
  await page.getByTestId('training-backend').waitFor()
  assert.match((await page.getByTestId('training-backend').textContent()) ?? '', /wasm/)
  assert.match((await page.getByTestId('training-split').textContent()) ?? '', /24 training · 6 validation/)

  // The leaves preset says its scale (crops at the photo's own size) and separates leaves; the Seed preset squeezes whole photos.
  await page.getByTestId('preset-leaves-cpu').check()
  assert.match((await page.getByTestId('training-scale').textContent()) ?? '', /96×96 crops at 1× the photo's own size/)
  assert.ok(await page.getByTestId('cfg-instances').isChecked())
  await page.getByTestId('cfg-instances').uncheck() // this dataset's masks do not tell leaves apart

  // The Seed preset at batch 16 does not fit the wasm heap: the view says so and what would fit.
  await page.getByTestId('preset-seed').check()
  assert.match((await page.getByTestId('training-scale').textContent()) ?? '', /whole photos squeezed to 256×256/)
  await page.getByTestId('cfg-batch').fill('16')
  await page.getByTestId('fit-warning').waitFor()
  assert.match((await page.getByTestId('fit-warning').textContent()) ?? '', /batch size of \d+ or less would fit/)
  assert.ok(await page.getByTestId('start-training').isDisabled())
  await screenshot(page, 'training-01-seed-does-not-fit')
  // One click takes the batch size that fits.
  const fitting = Number(/Use batch size (\d+)/.exec((await page.getByTestId('use-fitting-batch').textContent()) ?? '')?.[1])
  assert.ok(fitting >= 1 && fitting < 16, `fitting batch ${fitting}`)
  await page.getByTestId('use-fitting-batch').click()
  assert.equal(await page.getByTestId('cfg-batch').inputValue(), String(fitting))
  await page.getByTestId('fit-ok').waitFor()
  assert.ok(await page.getByTestId('start-training').isEnabled())

  // A network value other than the preset's makes it custom; the preset's own value leaves it the preset.
  await page.getByTestId('preset-fast-cpu').check()
  await page.getByTestId('cfg-input-size').fill('128')
  assert.ok(await page.getByTestId('preset-fast-cpu').isChecked())
  await page.getByTestId('cfg-input-size').fill('64')
  assert.ok(await page.getByTestId('preset-custom').isChecked())
  assert.equal(await page.getByTestId('cfg-workers').getAttribute('max'), '8', 'no more workers than the batch')

  // A tiny custom network, trained on 2 CPU workers (the field starts at the cores less one, at most the batch).
  assert.equal(await page.getByTestId('cfg-workers').inputValue(), String(defaultWorkers(8)))
  await page.getByTestId('preset-custom').check()
  for (const [id, value] of [
    ['cfg-input-size', '32'],
    ['cfg-filters', '8'],
    ['cfg-depth', '2'],
    ['cfg-batch', '4'],
    ['cfg-epochs', '8'],
    ['cfg-lr', '0.003'],
    ['cfg-patience', '0'],
    ['cfg-seed', '3'],
    ['cfg-workers', '2']
  ] as const)
    await page.getByTestId(id).fill(value)
  for (const off of ['rotate', 'scale', 'blur', 'noise']) await page.getByTestId(`aug-${off}`).uncheck()
  await page.getByTestId('fit-ok').waitFor()

  await page.getByTestId('show-augmented').click()
  await page.getByTestId('augmented-dialog').getByTestId('augmented-sample').nth(7).waitFor()
  assert.equal(await page.getByTestId('augmented-sample').count(), 8)
  await screenshot(page, 'training-02-augmented-samples')
  await page.getByTestId('augmented-dialog').getByRole('button', { name: 'Close' }).click()

  // The backend can be picked by hand; the web host has no GPU worker, so the CPU backends it is.
  assert.deepEqual(
    await page
      .getByTestId('cfg-backend')
      .locator('option')
      .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value)),
    ['auto', 'webgpu', 'webgl', 'tensorflow', 'wasm', 'cpu']
  )
  await page.getByTestId('cfg-backend').selectOption('wasm')
  await page.getByTestId('fit-ok').filter({ hasText: 'the wasm backend' }).waitFor()
  await screenshot(page, 'training-02b-backend-choice')

  // How long the run would take: a few steps of this network timed on the chosen backend.
  await page.getByTestId('estimate-run').click()
  const estimate = page.getByTestId('estimate-result')
  await estimate.waitFor({ timeout: 60_000 })
  assert.match(await estimate.innerText(), /About .+ for 8 epochs \(.+ an epoch; a step of 4 took \d+\.\d\d s on wasm\)/)
  // Start training stays in view at the bottom of the window, however far the form is scrolled.
  const bar = await page.getByTestId('start-training').boundingBox()
  assert.ok(bar && bar.y + bar.height <= 900, `start button at ${bar?.y}`)
  await screenshot(page, 'training-02c-estimate')

  await page.getByTestId('run-name').fill('Tiny run')
  await page.getByTestId('start-training').click()
  const run = page.getByTestId('current-run')
  await run.filter({ hasText: 'Tiny run' }).waitFor()
  await page.getByTestId('training-progress').waitFor()
  // The curves grow epoch by epoch.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-charts"]')?.getAttribute('data-epochs')) >= 1, null, { timeout: 60_000 })
  const first = await epochsShown(page)
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="run-charts"]')?.getAttribute('data-epochs')) > n, first, { timeout: 60_000 })
  assert.ok((await page.locator('[data-testid="chart-iou"] [data-series="validation"]').getAttribute('data-points')) !== '0')
  await screenshot(page, 'training-03-live-curves')

  // Leave the view mid-run and come back: the custom form and the per-batch loss are still there.
  const batchesBefore = Number(await page.getByTestId('run-charts').getAttribute('data-batches'))
  assert.ok(batchesBefore > 0)
  await page.getByTestId('nav-datasets').click()
  await page.getByTestId('view-datasets').waitFor()
  await page.getByTestId('nav-training').click()
  await page.getByTestId('current-run').filter({ hasText: 'Tiny run' }).waitFor()
  assert.ok(await page.getByTestId('preset-custom').isChecked())
  for (const [id, value] of [
    ['cfg-input-size', '32'],
    ['cfg-filters', '8'],
    ['cfg-depth', '2'],
    ['cfg-batch', '4'],
    ['cfg-epochs', '8'],
    ['cfg-lr', '0.003']
  ] as const)
    assert.equal(await page.getByTestId(id).inputValue(), value, id)
  assert.equal(await page.getByTestId('cfg-backend').inputValue(), 'wasm')
  assert.equal(await page.getByTestId('aug-rotate').isChecked(), false)
  assert.ok(Number(await page.getByTestId('run-charts').getAttribute('data-batches')) >= batchesBefore, 'the batch losses are kept')
  // Pointing at a curve reads that epoch's values.
  const plot = (await page.getByTestId('chart-iou').locator('.u-over').boundingBox())!
  await page.mouse.move(plot.x + plot.width * 0.12, plot.y + plot.height / 2)
  await page
    .getByTestId('chart-iou')
    .getByTestId('chart-readout')
    .filter({ hasText: /Epoch \d+\s*train \d\.\d{3}\s*validation \d\.\d{3}/ })
    .waitFor()
  await screenshot(page, 'training-03b-back-to-the-view')

  await page.getByTestId('cancel-training').click()
  await page.locator('[data-testid="current-run"][data-status="cancelled"]').waitFor({ timeout: 30_000 })
  const kept = await epochsShown(page)
  assert.ok(kept >= 2 && kept < 8, `epochs kept after cancel: ${kept}`)
  await screenshot(page, 'training-04-cancelled')

  await page.getByTestId('resume-training').click()
  await page.locator('[data-testid="current-run"][data-status="completed"]').waitFor({ timeout: 120_000 })
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-charts"]')?.getAttribute('data-epochs')) === 8)
  const metrics = (await page.getByTestId('latest-metrics').textContent()) ?? ''
  assert.match(metrics, /Epoch 8: validation IoU 0\.\d{3}/)
  assert.match(
    (await page.getByTestId('training-measure').textContent()) ?? '',
    /Measured on validation photos at the network's \d+×\d+ px, threshold 0\.5, pixels of all photos pooled/
  )
  await screenshot(page, 'training-05-resumed-finished')

  await page.getByTestId('nav-runs').click()
  const row = page.locator('[data-testid="run-row"][data-status="completed"]')
  await row.waitFor()
  assert.match((await row.textContent()) ?? '', /Tiny run.*Generated leaves.*Custom.*wasm.*8 \/ 8/)
  await row.click()
  await page.getByTestId('run-detail').waitFor()
  assert.equal(Number(await page.getByTestId('run-detail').getByTestId('run-charts').getAttribute('data-epochs')), 8)
  await page.getByTestId('run-notes').fill('Cancelled after a few epochs and resumed.')
  await page.getByTestId('save-run').click()
  await page.getByTestId('notice-info').filter({ hasText: 'Run saved' }).waitFor()
  await screenshot(page, 'training-06-runs-view')
  const runs = await t.service.api['runs.list']({})
  assert.equal(runs[0].notes, 'Cancelled after a few epochs and resumed.')
  assert.equal(runs[0].config.workers, 2)
  assert.equal((await t.service.api['runs.get']({ id: runs[0].id })).device, 'CPU (wasm, 2 workers)')
  assert.deepEqual(
    (await t.service.api['runs.get']({ id: runs[0].id })).epochs.map((e) => e.epoch),
    [1, 2, 3, 4, 5, 6, 7, 8]
  )

  // Delete, with a confirmation.
  await page.getByTestId('delete-run').click()
  await page.getByTestId('confirm-delete').click()
  await page.getByText('No runs yet').waitFor()
  assert.equal((await t.service.api['runs.list']({})).length, 0)
})

test('a run the GPU stopped shows why, the GPU it ran on, and resumes on the CPU from its checkpoint', { skip: skip ?? false }, async () => {
  // One epoch trained; then the run is recorded as the job records a lost GPU context (the failure itself is
  // tested against the real worker page in gpu-worker.e2e.test.ts; the web host has no GPU worker).
  const api = t.service.api
  const datasetId = (await api['datasets.list']({}))[0].id
  const config = {
    ...(await api['training.presets']({})).defaults,
    preset: 'custom' as const,
    inputSize: 32,
    baseFilters: 4,
    depth: 2,
    batchSize: 4,
    epochs: 1
  }
  const { run, job } = await api['training.start']({ datasetId, name: 'Stopped on the GPU', config, backend: 'wasm' })
  assert.equal((await t.service.requireProject().jobs.wait(job.id)).status, 'succeeded')
  const db = t.service.requireProject().project.db
  const renderer = 'ANGLE (NVIDIA, NVIDIA RTX A4000 Direct3D11 vs_5_0 ps_5_0)'
  setRunEpochs(db, run.id, 2)
  setRunBackend(db, run.id, {
    backend: 'webgl',
    device: `GPU (WebGL2): ${renderer}`,
    gpu: { backend: 'webgl', renderer, software: false, maxTextureSize: 16384, maxBufferBytes: null, floatRenderTargets: true }
  })
  finishRun(db, run.id, 'failed', {
    error: `The GPU context was lost at batch 2 of epoch 2: The browser lost the WebGL context of the GPU (${renderer}). The run stopped and its checkpoint of epoch 1 is kept: resume it, or resume it on the CPU (backend wasm) if it happens again.`
  })

  await page.getByTestId('nav-runs').click()
  await page.getByTestId('nav-training').click()
  const current = page.locator('[data-testid="current-run"][data-status="failed"]')
  await current.filter({ hasText: 'Stopped on the GPU' }).waitFor()
  assert.match((await current.textContent()) ?? '', /The GPU context was lost at batch 2 of epoch 2/)
  assert.equal(await page.getByTestId('training-renderer').textContent(), `Renderer: ${renderer}`)
  await screenshot(page, 'training-07-stopped-on-gpu')

  await page.getByTestId('resume-on-cpu').click()
  await page.locator('[data-testid="current-run"][data-status="completed"]').waitFor({ timeout: 60_000 })
  const resumed = await api['runs.get']({ id: run.id })
  assert.equal(resumed.backend, 'wasm')
  assert.equal(resumed.renderer, null)
  assert.deepEqual(
    resumed.epochs.map((e) => e.epoch),
    [1, 2]
  )
})
