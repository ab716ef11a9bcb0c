// Prediction in Chromium: a run exported as ONNX from the Runs view (onnxruntime runs the file), and a batch
// with a photo that failed, retried from the Predict view.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { JobInfo } from '../../src/shared/api/jobs'
import { screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1400, height: 900 })
let runId: number

async function wait(job: JobInfo, expected: JobInfo['status'] = 'succeeded'): Promise<JobInfo> {
  const done = await state.t.service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, expected, `${done.title}: ${done.error}`)
  return done
}

test('a run is exported as ONNX from its detail in the Runs view', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 6, { width: 48, height: 48, seed: 2 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  await api['projects.create']({ dir: join(tempDir(), 'onnx'), name: 'ONNX' })
  const datasetId = (await api['datasets.create']({ name: 'Shapes' })).id
  await wait(await api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await api['datasets.split']({ datasetId, ratio: [67, 33, 0], seed: 1 })
  const { defaults } = await api['training.presets']({})
  const config = { ...defaults, preset: 'custom' as const, inputSize: 32, baseFilters: 4, depth: 2, batchSize: 4, epochs: 1 }
  const { run, job } = await api['training.start']({ datasetId, name: 'Tiny', config })
  await wait(job)
  runId = run.id

  await page.goto(t.host.url)
  await page.getByTestId('nav-runs').click()
  await page.locator(`[data-testid="run-row"][data-run-id="${run.id}"]`).click()
  const form = page.getByTestId('export-onnx')
  await form.waitFor()
  assert.equal(await page.getByTestId('onnx-export').isDisabled(), true, 'nothing to export to before a file is named')
  const file = join(tempDir(), 'tiny leaves.onnx')
  await page.getByTestId('onnx-file').fill(file)
  await page.getByTestId('onnx-checkpoint').selectOption('last')
  await page.getByTestId('onnx-export').click()
  await page.getByTestId('notice-info').filter({ hasText: 'Wrote the ONNX model' }).waitFor({ timeout: 60_000 })
  assert.ok(existsSync(file), 'the ONNX file was written')
  await form.scrollIntoViewIfNeeded()
  await screenshot(page, 'onnx-01-run-exported')

  const session = await ort.InferenceSession.create(file)
  const out = await session.run({ image: new ort.Tensor('float32', new Float32Array(32 * 32 * 3).fill(0.5), [1, 32, 32, 3]) })
  assert.deepEqual(out.mask.dims, [1, 32, 32, 1])
  assert.ok([...(out.mask.data as Float32Array)].every((p) => p >= 0 && p <= 1), 'leaf probabilities')
  await session.release()
})

test('a batch with a photo that failed lists it, and retries only it from the Predict view', { skip }, async () => {
  const { t, page } = state
  const folder = join(tempDir(), 'field')
  for (const s of await makePhotos(folder, 3, { width: 90, height: 70, seed: 4, format: 'jpg' })) rmSync(s.maskPath)
  writeFileSync(join(folder, 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 3)]))
  // broken.jpg fails, the other three are predicted: the job ends with problems.
  await wait(await t.service.api['predictions.start']({ runId, checkpoint: 'last', source: { kind: 'folder', dir: folder }, threshold: 0.5, cutouts: false, measure: { minLeafAreaPx: 5, pxPerMm: null } }), 'done-with-problems')

  await page.getByTestId('nav-predict').click()
  await page.getByTestId('predict-batch').first().click()
  const bar = page.getByTestId('predict-resume-bar')
  await bar.waitFor()
  assert.match((await bar.textContent()) ?? '', /1 photo failed/)
  // Failed photos are a warning (the warning colours), not the green of work done.
  const colours = await bar.evaluate((el) => {
    const probe = document.createElement('div')
    probe.style.background = 'var(--warn-soft)'
    probe.style.borderColor = 'var(--warn-line)'
    el.appendChild(probe)
    const want = getComputedStyle(probe)
    const got = getComputedStyle(el)
    const pair = { bar: [got.backgroundColor, got.borderTopColor], warning: [want.backgroundColor, want.borderTopColor] }
    probe.remove()
    return pair
  })
  assert.deepEqual(colours.bar, colours.warning)
  await page.getByTestId('predict-problems').locator('summary').click()
  assert.match((await page.getByTestId('predict-problems').textContent()) ?? '', /broken\.jpg/)
  assert.equal(await page.getByTestId('predict-photos').locator('tbody tr').count(), 3)
  await screenshot(page, 'predict-01-batch-with-failed-photo')

  copyFileSync(join(folder, 'leaf000.jpg'), join(folder, 'broken.jpg')) // the lab replaces the damaged file
  // A copy of a photo the batch already has: its content is done, so nothing is predicted twice.
  rmSync(join(folder, 'leaf000.jpg'))
  await page.getByTestId('predict-resume').click()
  await bar.waitFor({ state: 'detached', timeout: 60_000 })
  await page.getByTestId('predict-problems').waitFor({ state: 'detached' })
  assert.equal(await page.getByTestId('predict-photos').locator('tbody tr').count(), 3)
  await screenshot(page, 'predict-02-batch-retried')

  // Traits: a histogram across the leaves (then the photos) and a table of every photo's traits.
  const { photos: traits } = await t.service.api['predictions.traits']({ batchId: (await t.service.api['predictions.list']({}))[0].id })
  // A leaf one pixel thick has no hull area, so no solidity: it is left out of that histogram.
  const leafCount = traits.reduce((n, p) => n + p.leaves.filter((l) => l.solidity !== null).length, 0)
  const panel = page.getByTestId('traits-panel')
  await panel.scrollIntoViewIfNeeded()
  await page.getByTestId('trait-select').selectOption('solidity')
  const bars = () => page.getByTestId('trait-histogram').locator('rect').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))))
  assert.equal((await bars()).reduce((a, b) => a + b, 0), leafCount, 'every leaf in a bar')
  assert.equal((await page.getByTestId('trait-count').textContent())?.trim(), `${leafCount} leaves`)
  await page.getByTestId('trait-level').selectOption('photo')
  await page.waitForFunction(() => document.querySelector('[data-testid="trait-count"]')?.textContent?.trim() === '3 photos')
  assert.equal((await bars()).reduce((a, b) => a + b, 0), 3)
  assert.equal(await page.getByTestId('traits-table').locator('tbody tr').count(), 3)
  await screenshot(page, 'predict-03-traits')
})
