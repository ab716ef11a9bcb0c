// One setting, one answer: the same run and photo, predicted with every setting left at its default, give the same
// leaf count and area from `leafseg predict` as from the Predict view (the minimum leaf area was 50 px in one and
// 100 px in the other, so a leaf between the two was counted by one only).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { screenshot } from '../helpers/browser'
import { browserHost, succeeded } from '../helpers/webhost'
import { leafsegJson } from '../helpers/cli'
import { tempDir } from '../helpers/temp'
import { makePhotos, tinyConfig } from '../training/fixtures'
import { seededRandom } from '../../src/shared/random'
import type { MeasurementRow } from '../../src/shared/api/prediction'

const { skip, state } = browserHost({ width: 1400, height: 900 })
const SIDE = 48

/** Leaves as the generated training photos draw them (green on textured brown): a large one and a small disc of about 75 px. */
async function photoWithASmallLeaf(path: string): Promise<void> {
  const random = seededRandom(11)
  const rgb = Buffer.alloc(SIDE * SIDE * 3)
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const grain = random() * 50
      const big = ((x - 15) / 11) ** 2 + ((y - 16) / 9) ** 2 <= 1
      const small = Math.hypot(x - 36, y - 36) <= 4.9
      rgb.set(big || small ? [40 + grain * 0.4, 180 + grain * 0.5, 35 + grain * 0.3] : [110 + grain, 85 + grain * 0.8, 60 + grain * 0.5], (y * SIDE + x) * 3)
    }
  await sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .png()
    .toFile(path)
}

test('leafseg predict and the Predict view give the same leaf count and area for the same run and photo, with the defaults', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 16, { width: SIDE, height: SIDE, seed: 21 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  const project = join(tempDir(), 'agreement')
  await api['projects.create']({ dir: project, name: 'Agreement' })
  const datasetId = (await api['datasets.create']({ name: 'Shapes' })).id
  await succeeded(t.service, await api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await succeeded(t.service, await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await api['datasets.split']({ datasetId, ratio: [75, 25, 0], seed: 1 })
  const { run, job } = await api['training.start']({ datasetId, name: 'Agreement', config: { ...tinyConfig(12, 0.01), inputSize: SIDE }, backend: 'wasm' })
  await succeeded(t.service, job)

  const folder = join(tempDir(), 'new photo')
  mkdirSync(folder)
  await photoWithASmallLeaf(join(folder, 'two leaves.png'))

  // The Predict view, nothing changed but the run and the folder.
  await page.goto(t.host.url)
  await page.getByTestId('nav-predict').click()
  await page.getByTestId('predict-run').selectOption(String(run.id))
  await page.getByTestId('predict-folder').fill(folder)
  await page.getByTestId('predict-start').click()
  const row = page.getByTestId('predict-photo-row')
  await row.waitFor({ timeout: 120_000 })
  const inView = {
    count: Number(await row.getByTestId('predict-count').textContent()),
    area: Number((await row.getByTestId('predict-area-px').textContent())!.replace(/\D/g, ''))
  }
  await screenshot(page, 'predict-agreement-01-view')

  // The command line, nothing given but what it must have.
  const out = join(tempDir(), 'masks')
  const cli = leafsegJson<{ measurements: MeasurementRow[] }>('predict', '--project', project, '--run', String(run.id), '--images', folder, '--out', out)
  assert.equal(cli.measurements.length, 1)
  const [m] = cli.measurements
  assert.equal(m.leafCount, 2, `the run should find the large leaf and the small one (${m.areaPx} px in all)`)
  assert.deepEqual(inView, { count: m.leafCount, area: m.areaPx }, 'the Predict view measures what the command line measures')

  // The view's minimum leaf area is limited by the bound the API enforces: 0 is not offered to it.
  const minArea = page.getByTestId('predict-min-area')
  assert.equal(await minArea.getAttribute('min'), '1')
  await minArea.fill('0')
  await page.getByTestId('predict-min-area-problem').waitFor()
  assert.equal(await page.getByTestId('predict-start').isDisabled(), true, 'no prediction with a minimum leaf area of 0')
  await screenshot(page, 'predict-agreement-02-min-area-refused')
  await minArea.fill('50')
  await page.getByTestId('predict-min-area-problem').waitFor({ state: 'detached' })
  assert.equal(await page.getByTestId('predict-start').isDisabled(), false)
})
