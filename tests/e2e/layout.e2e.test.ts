// The datasets grid and the trait histogram at 1440×900, light and dark (issue 24 item 9): nothing sticks out
// sideways (the page and the grid have no horizontal scroll), the badges sit beside the thumbnail's picture and
// never on it, and the histogram has a y-axis of counts and x ticks that do not run into each other.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { JobInfo } from '../../src/shared/api/jobs'
import { screenshot } from '../helpers/browser'
import { browserHost, succeeded } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'
import { makePhotos, tinyConfig } from '../training/fixtures'

// scrollbars that take room, as on a desktop: the grid's own vertical scrollbar narrows what its cells may fill
const { skip, state } = browserHost({ width: 1440, height: 900 }, { showScrollbars: true })

type Box = { left: number; top: number; right: number; bottom: number }
const overlaps = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom

async function scheme(page: Page, s: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: s })
  await waitFor(() => page.evaluate((x) => matchMedia(`(prefers-color-scheme: ${x})`).matches, s), { what: `the page in the ${s} scheme` })
}

/** The page's and the grid's horizontal overflow, and each visible cell's picture and badges (page pixels). */
function gridLayout(page: Page) {
  // no named functions in here: the page does not have the helper the test's compiler names them with
  return page.evaluate(() => {
    const page = document.scrollingElement!
    const grid = document.querySelector<HTMLElement>('[data-testid="photo-grid"]')!
    const inner = grid.getBoundingClientRect().left + grid.clientLeft + grid.clientWidth
    const cells = [...grid.querySelectorAll('[data-testid="photo-cell"]')].map((c) => ({
      cell: c.getBoundingClientRect().toJSON() as Box,
      picture: c.querySelector('[data-testid="photo-picture"]')!.getBoundingClientRect().toJSON() as Box,
      badges: [...c.querySelectorAll('.badge')].map((b) => b.getBoundingClientRect().toJSON() as Box)
    }))
    return {
      page: { scrollWidth: page.scrollWidth, clientWidth: page.clientWidth },
      grid: {
        scrollWidth: grid.scrollWidth,
        clientWidth: grid.clientWidth,
        innerRight: inner,
        scrollbar: grid.offsetWidth - grid.clientLeft * 2 - grid.clientWidth,
        scrollHeight: grid.scrollHeight,
        clientHeight: grid.clientHeight
      },
      columns: new Set(cells.map((c) => Math.round(c.cell.left))).size,
      cells
    }
  })
}

test('the datasets grid fits 1440×900 with its badges off the pictures; the histogram has a y-axis', { skip }, async () => {
  const { t, page } = state
  const api = t.service.api
  const wait = (job: JobInfo) => succeeded(t.service, job)
  const dir = tempDir()
  const samples = await makePhotos(join(dir, 'photos'), 40, { width: 64, height: 48, seed: 11 })
  mkdirSync(join(dir, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(dir, 'masks', `${s.id}.png`))
  await api['projects.create']({ dir: join(tempDir(), 'Layout'), name: 'Layout' })
  const dataset = await api['datasets.create']({ name: 'Seedlings' })
  await wait(await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(dir, 'masks') } }))
  await api['datasets.split']({ datasetId: dataset.id, ratio: [75, 25, 0], seed: 1 })
  const { run, job } = await api['training.start']({ datasetId: dataset.id, name: 'Tiny', config: tinyConfig(3, 1e-2), backend: 'wasm' })
  await wait(job)
  await wait(
    await api['predictions.start']({
      runId: run.id,
      checkpoint: 'best',
      source: { kind: 'dataset', datasetId: dataset.id },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 5, pxPerMm: null }
    })
  )

  await page.goto(t.host.url)
  await page.getByTestId('project-name').filter({ hasText: 'Layout' }).waitFor()
  for (const s of ['light', 'dark'] as const) {
    await scheme(page, s)
    await page.getByTestId('nav-datasets').click()
    await waitFor(async () => (await page.getByTestId('photo-cell').count()) >= 14, { what: 'two rows of thumbnails' })
    // the size control from smallest to largest: at every size nothing sticks out sideways
    const slider = page.locator('input[type="range"]').first()
    const [min, max] = [Number(await slider.getAttribute('min')), Number(await slider.getAttribute('max'))]
    let scrolled = false
    for (const size of [min, Math.round((min + max) / 2), max, 172]) {
      await slider.fill(String(size))
      const layout = await waitFor(
        async () => {
          const l = await gridLayout(page)
          return l.cells.length > 0 && l.cells.every((c) => c.picture.bottom > c.picture.top) ? l : null
        },
        { what: `the grid laid out at size ${size}` }
      )
      const at = `${s}, size ${size}, ${layout.columns} columns`
      if (layout.grid.scrollHeight > layout.grid.clientHeight) {
        assert.ok(layout.grid.scrollbar > 0, `${at}: the grid's vertical scrollbar takes room (${layout.grid.scrollbar} px), as on a desktop`)
        scrolled = true
      }
      assert.ok(
        layout.page.scrollWidth <= layout.page.clientWidth,
        `${at}: the page scrolls sideways (${layout.page.scrollWidth} > ${layout.page.clientWidth})`
      )
      assert.ok(
        layout.grid.scrollWidth <= layout.grid.clientWidth,
        `${at}: the grid scrolls sideways (${layout.grid.scrollWidth} > ${layout.grid.clientWidth})`
      )
      for (const c of layout.cells) {
        assert.ok(c.cell.right <= layout.grid.innerRight + 0.5, `${at}: a cell ends at ${c.cell.right}, past the grid's ${layout.grid.innerRight}`)
        assert.ok(c.badges.length > 0, `${at}: each photo here has badges (mask, split)`)
        for (const b of c.badges) assert.ok(!overlaps(b, c.picture), `${at}: a badge covers the picture`)
      }
      if (size === 172) assert.ok(layout.columns >= 6, `${at}: at the default size the grid's width holds six columns or more`)
    }
    assert.ok(scrolled, `${s}: at some size the grid scrolls, so its scrollbar's room was part of the check`)
    await screenshot(page, `layout-01-datasets-grid-${s}`)

    await page.getByTestId('nav-predict').click()
    await page.getByTestId('predict-batch').first().click()
    const histogram = page.getByTestId('trait-histogram')
    await histogram.scrollIntoViewIfNeeded()
    await page.getByTestId('trait-level').selectOption('photo')
    const yTicks = await waitFor(
      async () => {
        const ticks = await histogram.getByTestId('histogram-y-tick').allTextContents()
        return ticks.length >= 2 ? ticks.map(Number) : null
      },
      { what: 'the histogram’s y-axis ticks' }
    )
    const counts = await histogram.locator('rect').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))))
    assert.equal(yTicks[0], 0, 'the y-axis starts at 0')
    assert.ok(yTicks[yTicks.length - 1] >= Math.max(...counts), `the y-axis (${yTicks}) reaches the tallest bar (${Math.max(...counts)})`)
    assert.ok(yTicks.every(Number.isInteger), 'counts are whole numbers')
    const xTicks = await histogram
      .getByTestId('histogram-x-tick')
      .evaluateAll((ts) => ts.map((e) => ({ text: e.textContent ?? '', ...e.getBoundingClientRect().toJSON() })))
    assert.ok(xTicks.length >= 3, `more x ticks than the two ends: ${xTicks.map((x) => x.text)}`)
    for (let i = 1; i < xTicks.length; i++)
      assert.ok(xTicks[i - 1].right <= xTicks[i].left, `x ticks ${xTicks[i - 1].text} and ${xTicks[i].text} run into each other`)
    const scroll = await page.evaluate(() => ({ w: document.scrollingElement!.scrollWidth, c: document.scrollingElement!.clientWidth }))
    assert.ok(scroll.w <= scroll.c, `${s}: the Predict view scrolls sideways`)
    await screenshot(page, `layout-02-trait-histogram-${s}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
})
