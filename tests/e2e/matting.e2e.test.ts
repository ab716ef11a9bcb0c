// Trimaps and mattes end to end in Chromium: trimap layer, live kernel slider, matting the dataset, the alpha layer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { canvasesDrawn, screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const { skip, state } = browserHost({ width: 1280, height: 820 })

test('trimap layer with a live kernel slider, matting the dataset, the alpha layer', { skip }, async () => {
  const W = 120
  const H = 90
  const src = tempDir()
  mkdirSync(join(src, 'photos'))
  mkdirSync(join(src, 'masks'))
  for (let i = 0; i < 2; i++) {
    const rgb = Buffer.alloc(W * H * 3)
    const mask = Buffer.alloc(W * H)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - 55 - i * 10, y - 45)
        const a = Math.min(1, Math.max(0, (32 - d) / 5))
        rgb.set([Math.round(200 - 150 * a), Math.round(195 - 40 * a), Math.round(190 - 140 * a)], (y * W + x) * 3)
        mask[y * W + x] = d < 29.5 ? 255 : 0
      }
    writeFileSync(
      join(src, 'photos', `disc_${i}.png`),
      await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
        .png()
        .toBuffer()
    )
    writeFileSync(
      join(src, 'masks', `disc_${i}.png`),
      await sharp(mask, { raw: { width: W, height: H, channels: 1 } })
        .png()
        .toBuffer()
    )
  }
  const api = state.t.service.api
  await api['projects.create']({ dir: join(tempDir(), 'matting'), name: 'Matting' })
  const dataset = await api['datasets.create']({ name: 'Discs' })
  const jobs = state.t.service.requireProject().jobs
  await jobs.wait((await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] })).id)
  await jobs.wait((await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'masks') } })).id)

  await state.page.goto(state.t.host.url)
  await state.page.getByTestId('photo-cell').first().click()
  await state.page.getByTestId('inspector').waitFor()
  await state.page.getByTestId('layer-trimap').click()
  const stats = state.page.getByTestId('trimap-stats')
  await stats.waitFor()
  const first = await stats.textContent()
  await screenshot(state.page, 'matting-01-trimap-layer')

  // Fitted to the leaves by default; the fixed sliders are one click away.
  await state.page.getByTestId('trimap-fixed').check()
  await state.page.waitForFunction((before) => document.querySelector('[data-testid="trimap-stats"]')?.textContent !== before, first)
  const fixedFirst = await stats.textContent()
  await state.page.getByTestId('trimap-kernel').fill('9')
  await state.page.waitForFunction((before) => document.querySelector('[data-testid="trimap-stats"]')?.textContent !== before, fixedFirst)
  const bandOf = (text: string | null) => Number((text ?? '').match(/band: ([\d,]+) px/)![1].replace(/,/g, ''))
  assert.ok(bandOf(await stats.textContent()) > bandOf(fixedFirst), 'a wider kernel widens the unknown band')
  await screenshot(state.page, 'matting-02-trimap-kernel-9')

  await state.page.getByTestId('matte-dataset').click()
  await state.page.locator('[data-testid="job"][data-kind="mattes"][data-status="succeeded"]').waitFor({ timeout: 60_000 })
  const alphaLayer = state.page.getByTestId('layer-alpha').locator('input')
  await state.page.waitForFunction(() => !(document.querySelector('[data-testid="layer-alpha"] input') as HTMLInputElement).disabled)
  await alphaLayer.check()
  await state.page.getByTestId('opacity').fill('1')
  await canvasesDrawn(state.page, 'the alpha layer drawn')
  await screenshot(state.page, 'matting-03-alpha-layer')
  assert.equal(await state.page.getByTestId('notice-error').count(), 0, 'no error was shown')
})
