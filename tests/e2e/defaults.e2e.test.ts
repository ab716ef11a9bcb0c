// Defaults end to end in Chromium (issue 24 item 4): the Training view offers the dataset with the most training
// photos, Predict and Label with a run the best finished run; what a person then sets with real events (a preset,
// epochs, batch size, a CPU backend, the runs chosen) is found again after closing the project and opening it from
// the recent list.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'
import { makePhotos, tinyConfig } from '../training/fixtures'
import { bestFinishedRun } from '../../src/shared/api/training'

const { skip, state } = browserHost({ width: 1440, height: 900 })

test('the form and the runs last used come back after closing and reopening the project', { skip }, async () => {
  const api = state.t.service.api
  await api['projects.create']({ dir: join(tempDir(), 'defaults'), name: 'Defaults e2e' })
  // a dataset with no training photos first in the list, then one with 10
  await api['datasets.create']({ name: 'A new dataset' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 14, { width: 48, height: 40, seed: 5 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  const dataset = await api['datasets.create']({ name: 'Shapes' })
  const jobs = state.t.service.requireProject().jobs
  await jobs.wait((await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] })).id)
  await jobs.wait((await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'masks') } })).id)
  await api['datasets.split']({ datasetId: dataset.id, ratio: [70, 30, 0], seed: 1 })
  // two finished runs: the views offer the better one first, the person then chooses the other
  for (const [name, lr] of [
    ['R1', 1e-2],
    ['R2', 3e-3]
  ] as const) {
    const started = await api['training.start']({ datasetId: dataset.id, name, config: tinyConfig(2, lr) })
    assert.equal((await jobs.wait(started.job.id)).status, 'succeeded')
  }
  const runs = await api['runs.list']({})
  const best = bestFinishedRun(runs)!
  const other = runs.find((r) => r.id !== best.id)!

  const page = state.page
  await page.goto(state.t.host.url)
  await page.getByTestId('project-name').filter({ hasText: 'Defaults e2e' }).waitFor()

  // Training: the dataset with the most training photos, not the first one
  await page.getByTestId('nav-training').click()
  await page.getByTestId('training-split').waitFor()
  assert.equal(await page.getByTestId('training-dataset').inputValue(), String(dataset.id))
  await page.getByTestId('preset-seed').check()
  await page.getByTestId('cfg-epochs').fill('7')
  await page.getByTestId('cfg-batch').fill('3')
  await page.getByTestId('cfg-backend').selectOption('wasm')
  await waitFor(async () => (await api['training.preferences']({})).form?.config.batchSize === 3, { what: 'the form kept in the project' })

  // Predict and Label with a run: the best finished run first; the other chosen with the mouse
  await page.getByTestId('nav-predict').click()
  await waitFor(async () => (await page.getByTestId('predict-run').inputValue()) === String(best.id), { what: `Predict offering run ${best.id} first` })
  await page.getByTestId('predict-run').selectOption(String(other.id))
  await page.getByTestId('nav-datasets').click()
  await page.getByTestId('dataset-tab').filter({ hasText: 'Shapes' }).click()
  await page.getByTestId('open-review').click()
  await page.getByTestId('review-dialog').waitFor()
  await waitFor(async () => (await page.getByTestId('review-run').inputValue()) === String(best.id), { what: `Label with a run offering run ${best.id} first` })
  await page.getByTestId('review-run').selectOption(String(other.id))
  await waitFor(async () => (await api['training.preferences']({})).labelRunId === other.id, { what: 'the label run kept' })
  assert.equal((await api['training.preferences']({})).predictRunId, other.id)
  await page.keyboard.press('Escape')

  // Close the project, reload the page (a new session of the app), open it from the recent list
  await page.getByTestId('close-project').click()
  await page.reload()
  await page.getByTestId('recent-projects').getByText('Defaults e2e').click()
  await page.getByTestId('project-name').filter({ hasText: 'Defaults e2e' }).waitFor()

  await page.getByTestId('nav-training').click()
  await page.getByTestId('training-split').waitFor()
  await waitFor(async () => (await page.getByTestId('cfg-epochs').inputValue()) === '7', { what: 'the epochs as they were left' })
  assert.equal(await page.getByTestId('cfg-batch').inputValue(), '3')
  assert.ok(await page.getByTestId('preset-seed').isChecked(), 'the preset as it was left')
  assert.equal(await page.getByTestId('cfg-backend').inputValue(), 'wasm')
  assert.equal(await page.getByTestId('training-dataset').inputValue(), String(dataset.id))
  await screenshot(page, 'defaults-01-training-form-after-reopening')

  await page.getByTestId('nav-predict').click()
  await waitFor(async () => (await page.getByTestId('predict-run').inputValue()) === String(other.id), { what: `Predict offering run ${other.id}, last used` })
  await page.getByTestId('nav-datasets').click()
  await page.getByTestId('dataset-tab').filter({ hasText: 'Shapes' }).click()
  await page.getByTestId('open-review').click()
  await waitFor(async () => (await page.getByTestId('review-run').inputValue()) === String(other.id), {
    what: `Label with a run offering run ${other.id}, last used`
  })
  await screenshot(page, 'defaults-02-label-run-after-reopening')
})
