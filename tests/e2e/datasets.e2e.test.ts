// Datasets end to end in Chromium: a real drop of generated files, the import job, masks, the grid and the inspector.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Browser, Page } from 'playwright-core'
import { browserMissing, launchBrowser, screenshot } from '../helpers/browser'
import { startTestHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const skip = browserMissing()
let t: Awaited<ReturnType<typeof startTestHost>>
let browser: Browser
let page: Page

before(async () => {
  if (skip) return
  t = await startTestHost()
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1280, height: 820 } })
})
after(async () => {
  if (skip) return
  await browser.close()
  await t.stop()
})

/** A leaf-like photo: a green ellipse on a light background, shifted per index. */
async function leafPhoto(i: number): Promise<{ photo: Buffer; mask: Buffer }> {
  const w = 96
  const h = 64
  const rgb = Buffer.alloc(w * h * 3)
  const m = Buffer.alloc(w * h)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = ((x - 30 - i * 6) / 22) ** 2 + ((y - 32) / 16) ** 2 < 1
      rgb.set(inside ? [40, 140 + i * 10, 50] : [225, 222, 215], (y * w + x) * 3)
      m[y * w + x] = inside ? 255 : 0
    }
  }
  return {
    photo: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer(),
    mask: await sharp(m, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer()
  }
}

test('drop a folder of photos, import masks, browse and inspect', { skip: skip ?? false }, async () => {
  const projectDir = join(tempDir(), 'Drop test')
  const maskDir = tempDir()
  const files: { name: string; base64: string }[] = []
  for (let i = 0; i < 5; i++) {
    const { photo, mask } = await leafPhoto(i)
    files.push({ name: `plant_${i}.png`, base64: photo.toString('base64') })
    writeFileSync(join(maskDir, `plant_${i}_mask.png`), mask)
  }

  await page.goto(t.host.url)
  await page.getByTestId('new-name').fill('Drop test')
  await page.getByTestId('new-dir').fill(projectDir)
  await page.getByTestId('create-project').click()
  await page.getByTestId('new-dataset-name').fill('Seedlings')
  await page.getByTestId('create-dataset').click()
  await page.getByTestId('dataset-summary').waitFor()
  await screenshot(page, 'datasets-01-empty-dataset')

  // A real drop event carrying File objects, as a file manager would send.
  await page.evaluate(async (list) => {
    const transfer = new DataTransfer()
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))
      transfer.items.add(new File([bytes], f.name, { type: 'image/png' }))
    }
    const target = document.querySelector('[data-testid="view-datasets"]')!
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }))
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, files)
  await page.locator('[data-testid="job"][data-kind="import-photos"][data-status="succeeded"]').waitFor({ timeout: 30_000 })
  await page.getByTestId('grid-count').filter({ hasText: '5 shown' }).waitFor()
  await screenshot(page, 'datasets-02-imported')

  await page.getByTestId('import-masks').click()
  await page.getByTestId('mask-dir').fill(maskDir)
  await page.getByTestId('start-mask-import').click()
  await page.locator('[data-testid="job"][data-kind="import-masks"][data-status="succeeded"]').waitFor({ timeout: 30_000 })
  await page.getByTestId('dataset-summary').filter({ hasText: '5 with masks' }).waitFor()

  await page.getByTestId('open-split').click()
  await page.getByTestId('apply-split').click()
  await page.getByTestId('dataset-summary').filter({ hasText: '4 train · 1 validation' }).waitFor()
  await screenshot(page, 'datasets-03-masks-and-splits')

  await page.getByTestId('photo-cell').first().click()
  const inspector = page.getByTestId('inspector')
  await inspector.waitFor()
  await page.getByTestId('inspector-name').filter({ hasText: 'plant_0.png' }).waitFor()
  await page.waitForTimeout(300)
  await screenshot(page, 'datasets-04-inspector')

  await page.getByTestId('opacity').fill('0.9')
  const before = await page.getByTestId('zoom-level').textContent()
  await page.keyboard.press('+')
  await page.keyboard.press('+')
  assert.notEqual(await page.getByTestId('zoom-level').textContent(), before, 'zoom changes')
  const canvas = page.getByTestId('inspector-canvas')
  const box = (await canvas.boundingBox())!
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await page.getByTestId('readout').filter({ hasText: /x \d+, y \d+ · mask (0|255)/ }).waitFor()
  await screenshot(page, 'datasets-05-inspector-zoomed')

  await page.keyboard.press('ArrowRight')
  await page.getByTestId('inspector-name').filter({ hasText: 'plant_1.png' }).waitFor()
  await page.keyboard.press('ArrowLeft')
  await page.getByTestId('inspector-name').filter({ hasText: 'plant_0.png' }).waitFor()
  await page.getByTestId('outline').check()
  await page.waitForTimeout(200)
  await screenshot(page, 'datasets-06-inspector-outline')
  await page.keyboard.press('Escape')
  await inspector.waitFor({ state: 'detached' })
})
