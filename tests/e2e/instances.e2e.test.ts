// Separating leaves in Chromium: the Training view's switch starts a run that separates leaves; its evaluation
// shows SBD, |DiC|, DiC and FBD with the gallery worst by SBD; its predictions count Leaves where a binary run's count Regions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { JobInfo } from '../../src/shared/api/jobs'
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
  await wait(await api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
  for (const r of [run.id, binary.run.id])
    await wait(await api['predictions.start']({ runId: r, checkpoint: 'best', source: { kind: 'folder', dir: join(src, 'photos') }, threshold: 0.5, cutouts: false, measure: { minLeafAreaPx: 5, pxPerMm: null } }))

  await page.goto(t.host.url)
  await page.getByTestId('nav-runs').click()
  await page.locator(`[data-testid="run-row"][data-run-id="${run.id}"]`).click()
  await page.getByTestId('eval-leaves').waitFor()
  assert.match((await page.getByTestId('eval-sbd').textContent()) ?? '', /^\d+\.\d$/)
  assert.ok((await page.getByTestId('eval-photo-sbd').count()) > 0, 'the gallery shows SBD per photo')
  await page.getByTestId('eval-leaves').scrollIntoViewIfNeeded()
  await screenshot(page, 'instances-02-evaluation-leaf-measures')

  await page.getByTestId('nav-predict').click()
  const headers: string[] = []
  for (const name of ['Separated leaves', 'Binary']) {
    await page.getByTestId('predict-batch').filter({ hasText: name }).first().click()
    await page.getByTestId('predict-count-header').filter({ hasText: name === 'Binary' ? 'Regions' : 'Leaves' }).waitFor()
    headers.push((await page.getByTestId('predict-count-header').textContent())!.trim())
    await screenshot(page, `instances-0${headers.length + 2}-predict-${name === 'Binary' ? 'regions' : 'leaves'}`)
  }
  assert.deepEqual(headers, ['Leaves', 'Regions'])
})
