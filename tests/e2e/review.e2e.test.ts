// The labelling loop end to end in Chromium: pre-label a dataset with a trained run from the review dialog, the
// review queue lists the run's masks most uncertain first, Review opens one in the inspector to confirm it,
// another is corrected with the model assist, and Retrain starts a run fine-tuned from the first.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { screenshot } from '../helpers/browser'
import { browserHost, callApi } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { makePhotos, tinyConfig } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1280, height: 820 })

test('pre-label with a run, review most uncertain first, retrain from it', { skip }, async () => {
  const api = state.t.service.api
  await api['projects.create']({ dir: join(tempDir(), 'review'), name: 'Review' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 14, { width: 48, height: 40, seed: 11 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples.slice(0, 10)) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  for (const s of samples.slice(10)) rmSync(s.maskPath)
  const dataset = await api['datasets.create']({ name: 'Shapes' })
  const jobs = state.t.service.requireProject().jobs
  await jobs.wait((await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] })).id)
  await jobs.wait((await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'masks') } })).id)
  await api['datasets.split']({ datasetId: dataset.id, ratio: [70, 30, 0], seed: 1 })
  const config = tinyConfig(15, 1e-2)
  const started = await api['training.start']({ datasetId: dataset.id, name: 'R', config })
  assert.equal((await jobs.wait(started.job.id)).status, 'succeeded')

  const page = state.page
  await page.goto(state.t.host.url)
  await page.getByTestId('open-review').click()
  await page.getByTestId('review-dialog').waitFor()
  await page.getByTestId('prelabel').click()
  await page.locator('[data-testid="job"][data-kind="prelabel"][data-status="succeeded"]').waitFor({ timeout: 60_000 })
  await page.locator('[data-testid="review-item"]').nth(3).waitFor()
  const shown = await page.locator('[data-testid="review-item"]').evaluateAll((items) => items.map((li) => ({ name: li.querySelector('.name')!.textContent, u: Number((li as HTMLElement).dataset.uncertainty) })))
  assert.equal(shown.length, 4)
  assert.deepEqual(shown.map((s) => s.u), [...shown.map((s) => s.u)].sort((a, b) => b - a), 'most uncertain first')
  assert.ok(shown[0].u > shown[3].u, JSON.stringify(shown) + ' the photos differ in uncertainty, so the order means something')
  const queue = await callApi(state.t.host, 'labels.reviewQueue', { datasetId: dataset.id })
  assert.deepEqual(shown.map((s) => s.name), queue.value.map((q: { name: string }) => q.name))
  await screenshot(page, 'labelling-06-review-queue')

  // Review opens the most uncertain photo; confirming it takes it off the queue
  await page.getByTestId('review-open').first().click()
  await page.getByTestId('inspector').waitFor()
  await page.waitForFunction((name) => document.querySelector('[data-testid="inspector-name"]')?.textContent === name, shown[0].name)
  // In review, → goes to the next most unsure photo of the queue (not the next by name), ← back.
  const names = shown.map((s) => s.name!)
  assert.notDeepEqual(names, [...names].sort(), 'the queue is not in name order, so the arrows show which order they follow')
  for (const [key, name] of [['ArrowRight', names[1]], ['ArrowRight', names[2]], ['ArrowRight', names[3]], ['ArrowLeft', names[2]], ['ArrowLeft', names[1]], ['ArrowLeft', names[0]]] as const) {
    await page.keyboard.press(key)
    await page.waitForFunction((n) => document.querySelector('[data-testid="inspector-name"]')?.textContent === n, name)
  }
  await page.getByTestId('confirm-mask').click()
  await page.getByTestId('model-made').waitFor({ state: 'detached' })
  await page.getByTestId('inspector-close').click()
  await page.getByTestId('open-review').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="review-item"]').length === 3)

  // the next is corrected with the model assist: the run's prediction as the start, a click, Accept
  const next = shown[1]
  await page.getByTestId('review-open').first().click()
  await page.waitForFunction((name) => document.querySelector('[data-testid="inspector-name"]')?.textContent === name, next.name)
  await page.getByTestId('edit-mask').click()
  await page.locator('[data-testid="mask-editor"][data-loaded="true"]').waitFor()
  await page.keyboard.press('a')
  await page.getByTestId('assist-from-run').click()
  await page.locator('[data-testid="editor-proposal"][data-clicks="0"]').waitFor()
  const r = (await page.getByTestId('editor-mask').boundingBox())!
  await page.mouse.click(r.x + 2, r.y + 2, { button: 'right' })
  await page.locator('[data-testid="editor-proposal"][data-clicks="1"]').waitFor()
  await screenshot(page, 'labelling-07-model-assist')
  await page.keyboard.press('Enter')
  await page.locator('[data-testid="mask-editor"][data-saved-edits="1"]').waitFor()
  const corrected = (await callApi(state.t.host, 'labels.reviewQueue', { datasetId: dataset.id })).value.map((q: { name: string }) => q.name)
  assert.ok(!corrected.includes(next.name), 'a corrected mask leaves the queue')
  const photos = (await api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 20, filter: { search: next.name }, sort: 'name' })).photos
  assert.equal((await api['photos.get']({ id: photos[0].id })).mask?.madeBy, 'model-corrected')
  await page.getByTestId('editor-done').click()
  await page.getByTestId('inspector-close').click()
  await page.getByTestId('open-review').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="review-item"]').length === 2)

  await page.getByTestId('retrain').click()
  await page.locator('[data-testid="job"][data-kind="train"][data-status="succeeded"]').nth(0).waitFor()
  const runs = await api['runs.list']({})
  const tuned = runs.find((r) => r.name === 'R, fine-tuned')!
  assert.ok(tuned, runs.map((r) => r.name).join(', '))
  assert.equal((await jobs.wait(tuned.jobId!)).status, 'succeeded')
  assert.match((await api['runs.get']({ id: tuned.id })).notes, new RegExp(`Fine-tuned from run ${started.run.id}`))
  assert.equal(tuned.config.epochs, 5, "a third of the epochs")
  // Compare shows R against the fine-tuned run
  await page.getByTestId('review-dialog').getByRole('button', { name: 'Close' }).click()
  await page.getByTestId('nav-compare').click()
  for (const id of [started.run.id, tuned.id]) await page.locator(`[data-testid="compare-run"][data-run-id="${id}"]`).check()
  await page.getByTestId('compare-settings').waitFor()
  assert.match((await page.getByTestId('compare-settings').textContent()) ?? '', /R, fine-tuned/)
  await screenshot(page, 'labelling-08-compare-retrained')
  assert.equal(await page.getByTestId('notice-error').count(), 0, 'no error was shown')
})
