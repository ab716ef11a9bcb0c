// Exporting a run as ONNX from the Runs view in Chromium: the file is written and onnxruntime runs it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { JobInfo } from '../../src/shared/domain'
import { screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'

const { skip, state } = browserHost({ width: 1400, height: 900 })

test('a run is exported as ONNX from its detail in the Runs view', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const wait = async (job: JobInfo) => {
    const done = await t.service.requireProject().jobs.wait(job.id)
    assert.equal(done.status, 'succeeded', `${done.title}: ${done.error}`)
  }
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
