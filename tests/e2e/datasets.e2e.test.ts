// Datasets end to end in Chromium: a real drop of generated files, the import job, masks, the grid and the inspector.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { canvasesDrawn, screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const { skip, state } = browserHost({ width: 1280, height: 820 })

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

test('drop a folder of photos, import masks, browse and inspect', { skip }, async () => {
  const projectDir = join(tempDir(), 'Drop test')
  const maskDir = tempDir()
  const files: { name: string; base64: string }[] = []
  for (let i = 0; i < 5; i++) {
    const { photo, mask } = await leafPhoto(i)
    files.push({ name: `plant_${i}.png`, base64: photo.toString('base64') })
    writeFileSync(join(maskDir, `plant_${i}_mask.png`), mask)
  }

  await state.page.goto(state.t.host.url)
  await state.page.getByTestId('new-name').fill('Drop test')
  await state.page.getByTestId('new-dir').fill(projectDir)
  await state.page.getByTestId('create-project').click()
  await state.page.getByTestId('new-dataset-name').fill('Seedlings')
  await state.page.getByTestId('create-dataset').click()
  await state.page.getByTestId('dataset-summary').waitFor()
  await screenshot(state.page, 'datasets-01-empty-dataset')

  // A real drop event carrying File objects, as a file manager would send.
  await state.page.evaluate(async (list) => {
    const transfer = new DataTransfer()
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))
      transfer.items.add(new File([bytes], f.name, { type: 'image/png' }))
    }
    const target = document.querySelector('[data-testid="view-datasets"]')!
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }))
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, files)
  await state.page.locator('[data-testid="job"][data-kind="import-photos"][data-status="succeeded"]').waitFor({ timeout: 30_000 })
  await state.page.getByTestId('grid-count').filter({ hasText: '5 shown' }).waitFor()
  await screenshot(state.page, 'datasets-02-imported')

  await state.page.getByTestId('import-masks').click()
  await state.page.getByTestId('mask-dir').fill(maskDir)
  await state.page.getByTestId('start-mask-import').click()
  await state.page.locator('[data-testid="job"][data-kind="import-masks"][data-status="succeeded"]').waitFor({ timeout: 30_000 })
  await state.page.getByTestId('dataset-summary').filter({ hasText: '5 with masks' }).waitFor()

  await state.page.getByTestId('open-split').click()
  await state.page.getByTestId('apply-split').click()
  await state.page.getByTestId('dataset-summary').filter({ hasText: '4 train · 1 validation' }).waitFor()
  await screenshot(state.page, 'datasets-03-masks-and-splits')

  // A ratio that does not add up to 100 is refused before the click, and the dialog says the split will be replaced.
  await state.page.getByTestId('open-split').click()
  await state.page.getByTestId('split-replaces').filter({ hasText: 'replaces the current split (4 train · 1 validation · 0 test)' }).waitFor()
  await state.page.getByTestId('split-val').fill('30')
  await state.page.getByTestId('split-ratio-problem').filter({ hasText: 'must add up to 100 (80/30/0 adds up to 110)' }).waitFor()
  assert.equal(await state.page.getByTestId('apply-split').isDisabled(), true, 'Assign splits is disabled for 80/30/0')
  await screenshot(state.page, 'datasets-03b-split-refused')
  await state.page.keyboard.press('Escape')
  await state.page.getByTestId('split-dialog').waitFor({ state: 'hidden' })
  await state.page.getByTestId('dataset-summary').filter({ hasText: '4 train · 1 validation' }).waitFor()

  await state.page.getByTestId('photo-cell').first().click()
  const inspector = state.page.getByTestId('inspector')
  await inspector.waitFor()
  await state.page.getByTestId('inspector-name').filter({ hasText: 'plant_0.png' }).waitFor()
  await canvasesDrawn(state.page, 'plant_0.png and its mask in the inspector')
  await screenshot(state.page, 'datasets-04-inspector')

  await state.page.getByTestId('opacity').fill('0.9')
  const before = await state.page.getByTestId('zoom-level').textContent()
  await state.page.keyboard.press('+')
  await state.page.keyboard.press('+')
  assert.notEqual(await state.page.getByTestId('zoom-level').textContent(), before, 'zoom changes')
  const canvas = state.page.getByTestId('inspector-canvas')
  const box = (await canvas.boundingBox())!
  await state.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await state.page.getByTestId('readout').filter({ hasText: /x \d+, y \d+ · (leaf|background)$/ }).waitFor()
  await screenshot(state.page, 'datasets-05-inspector-zoomed')

  await state.page.keyboard.press('ArrowRight')
  await state.page.getByTestId('inspector-name').filter({ hasText: 'plant_1.png' }).waitFor()
  await state.page.keyboard.press('ArrowLeft')
  await state.page.getByTestId('inspector-name').filter({ hasText: 'plant_0.png' }).waitFor()
  await state.page.getByTestId('outline').check()
  await canvasesDrawn(state.page, 'plant_0.png again, its mask outlined')
  await screenshot(state.page, 'datasets-06-inspector-outline')
  await state.page.keyboard.press('Escape')
  await inspector.waitFor({ state: 'detached' })
})
