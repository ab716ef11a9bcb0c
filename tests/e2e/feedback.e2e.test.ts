// Feedback end to end in Chromium (issue 15): a job whose items partly fail ends "done with problems" and lists
// them (jobs panel, notice, dialog, and inside the full-screen inspector); finished jobs are cleared; notices go
// on a click and with the project; trimaps fit seedlings by default; the web host's folder browser, its refusal
// of relative paths, and its HTML page for an address without the token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { screenshot } from '../helpers/browser'
import { browserHost, hostRequest } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const { skip, state } = browserHost({ width: 1280, height: 820 })

/** Seedling photos of 170 px with thin leaves (the seed's 5×5 kernel and 5 erosions erase them) and one thick leaf. */
async function seedlings(dir: string): Promise<void> {
  mkdirSync(join(dir, 'photos'), { recursive: true })
  mkdirSync(join(dir, 'masks'), { recursive: true })
  const size = 170
  const plants: Record<string, [number, number, number, number][]> = {
    thin_a: [
      [60, 70, 30, 5],
      [110, 100, 20, 4]
    ],
    thin_b: [[85, 85, 40, 6]],
    thick: [[85, 85, 45, 30]]
  }
  for (const [name, leaves] of Object.entries(plants)) {
    const rgb = Buffer.alloc(size * size * 3, 120)
    const mask = Buffer.alloc(size * size)
    for (const [cx, cy, rx, ry] of leaves)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) {
            mask[y * size + x] = 255
            rgb.set([40, 160, 50], (y * size + x) * 3)
          }
    writeFileSync(
      join(dir, 'photos', `${name}.png`),
      await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer()
    )
    writeFileSync(
      join(dir, 'masks', `${name}.png`),
      await sharp(mask, { raw: { width: size, height: size, channels: 1 } })
        .png()
        .toBuffer()
    )
  }
}

test(
  'trimaps with fixed values on seedlings: done with problems, listed in the inspector, the jobs panel, a notice and a dialog; then cleared',
  { skip },
  async () => {
    const src = tempDir()
    await seedlings(src)
    const api = state.t.service.api
    await api['projects.create']({ dir: join(tempDir(), 'seedlings'), name: 'Seedlings' })
    const dataset = await api['datasets.create']({ name: 'Seedlings' })
    const jobs = state.t.service.requireProject().jobs
    await jobs.wait((await api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(src, 'photos')] })).id)
    await jobs.wait((await api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(src, 'masks') } })).id)

    const page = state.page
    await page.goto(state.t.host.url)
    await page.getByTestId('photo-cell').first().click()
    await page.getByTestId('inspector').waitFor()
    await page.getByTestId('layer-trimap').click()
    // A new dataset fits the trimap to the leaves: this photo's values are shown.
    assert.equal(await page.getByTestId('trimap-auto').isChecked(), true)
    await page
      .getByTestId('trimap-stats')
      .filter({ hasText: /This photo: 3×3 kernel, \d+ erosions, \d+ dilations/ })
      .waitFor()
    await screenshot(page, 'feedback-01-trimap-auto')

    // The seed's fixed values, one click away, fail on the thin leaves: the job says so right here.
    await page.getByTestId('trimap-fixed').check()
    await page.getByTestId('trimap-seed-values').click()
    await page.getByTestId('apply-trimaps').click()
    const inInspector = page.locator('[data-testid="inspector-job"][data-status="done-with-problems"]')
    await inInspector.waitFor({ timeout: 30_000 })
    assert.match((await inInspector.textContent()) ?? '', /2 items failed/)
    await screenshot(page, 'feedback-02-inspector-job-problems')
    await inInspector.getByTestId('show-job-problems').click()
    const dialog = page.getByTestId('job-problems')
    await dialog.waitFor()
    const items = await dialog.getByTestId('job-problem').allTextContents()
    assert.equal(items.length, 2)
    for (const item of items) assert.match(item, /^thin_[ab]\.png.*the leaf erosions remove every leaf pixel \(5×5 kernel, 5 erosions\)/)
    await screenshot(page, 'feedback-03-problems-dialog')
    await page.keyboard.press('Escape')

    // Matting this photo shows its progress and outcome in the inspector too (the jobs panel is covered).
    await page.getByTestId('trimap-auto').check()
    await page.getByTestId('matte-photo').click()
    await page
      .locator('[data-testid="inspector-job"][data-kind="mattes"]')
      .filter({ hasText: /Done|Running/ })
      .waitFor({ timeout: 60_000 })
    await page.locator('[data-testid="inspector-job"][data-kind="mattes"][data-status="succeeded"]').waitFor({ timeout: 60_000 })
    await screenshot(page, 'feedback-04-inspector-matte-done')
    await page.keyboard.press('Escape')
    await page.getByTestId('inspector').waitFor({ state: 'detached' })

    // The jobs panel marks the job, and offers its problems; so does the notice.
    const inPanel = page.locator('[data-testid="jobs-panel"] [data-testid="job"][data-status="done-with-problems"]')
    assert.match((await inPanel.textContent()) ?? '', /Done with problems.*2 items failed/)
    const notice = page.getByTestId('notice-error').filter({ hasText: /done, but 2 items failed/ })
    await notice.waitFor()
    await screenshot(page, 'feedback-05-panel-and-notice')
    await notice.getByTestId('notice-action').click()
    await dialog.getByTestId('job-problem').first().waitFor()
    assert.equal(await dialog.getByTestId('job-problem').count(), 2)
    assert.equal(await notice.count(), 0, 'the notice goes once its action is taken')
    await page.keyboard.press('Escape')
    await inPanel.getByTestId('show-job-problems').click()
    assert.equal(await dialog.getByTestId('job-problem').count(), 2)
    await page.keyboard.press('Escape')

    // Finished jobs can be cleared from the panel (and stay cleared after a reload).
    await page.getByTestId('clear-jobs').click()
    await page.locator('[data-testid="jobs-panel"] [data-testid="job"]').first().waitFor({ state: 'detached' })
    await page.reload()
    await page.getByTestId('project-name').waitFor()
    assert.equal(await page.locator('[data-testid="jobs-panel"] [data-testid="job"]').count(), 0)
    await screenshot(page, 'feedback-06-jobs-cleared')
  }
)

test('a relative path typed into the web page is refused with a clear message; error notices go with the project, and on a click', { skip }, async () => {
  const page = state.page
  // A path typed into the web page must be absolute: relative to the server's working folder is a surprise.
  await page.getByTestId('nav-datasets').click()
  await page.getByTestId('photo-dir').fill('photos/today')
  await page.getByTestId('import-photos').click()
  const refused = page
    .getByTestId('notice-error')
    .filter({ hasText: '“photos/today” is a relative path: give the full path (starting with / or a drive letter), or use Browse… to pick it.' })
  await refused.waitFor()
  await screenshot(page, 'feedback-07-relative-path-refused')

  // The error goes with the project.
  await page.getByTestId('close-project').click()
  await page.getByTestId('open-dir').waitFor()
  assert.equal(await page.getByTestId('notice-error').count(), 0)

  await page.getByTestId('open-dir').fill('relative/project')
  await page.getByTestId('open-project').click()
  const again = page.getByTestId('notice-error').filter({ hasText: '“relative/project” is a relative path' })
  await again.waitFor()
  // A click on its text dismisses it.
  await again.locator('.text').click()
  await again.waitFor({ state: 'detached' })
})

test(
  "the web host's folder browser picks a folder of the server's disk; an address without the token gets an HTML page saying how to get in",
  { skip },
  async () => {
    const root = tempDir()
    mkdirSync(join(root, 'Trial 2026', 'day 1'), { recursive: true })
    mkdirSync(join(root, '.hidden'))
    writeFileSync(join(root, 'Trial 2026', 'plant.png'), 'x')
    writeFileSync(join(root, 'Trial 2026', 'notes.txt'), 'x')
    const page = state.page
    await page.getByTestId('open-dir').fill(root)
    await page.getByTestId('open-dir-browse').click()
    const browser = page.getByTestId('folder-browser')
    await browser.getByTestId('folder-browser-dir').filter({ hasText: root }).waitFor()
    assert.deepEqual(await browser.getByTestId('folder-browser-folder').allTextContents(), ['Trial 2026/'])
    await browser.getByTestId('folder-browser-folder').click()
    await browser
      .getByTestId('folder-browser-dir')
      .filter({ hasText: join(root, 'Trial 2026') })
      .waitFor()
    assert.match((await browser.textContent()) ?? '', /day 1[^]*plant\.png[^]*1 image here/)
    assert.doesNotMatch((await browser.textContent()) ?? '', /notes\.txt/)
    await screenshot(page, 'feedback-08-folder-browser')
    await browser.getByTestId('folder-browser-choose').click()
    assert.equal(await page.getByTestId('open-dir').inputValue(), join(root, 'Trial 2026'))
    // Browsing submitted nothing: no project was opened, no error shown.
    assert.equal(await page.getByTestId('notice-error').count(), 0)

    // The listing is validated: a relative path is refused, a missing folder named.
    const token = state.t.host.token
    const list = (args: object) =>
      hostRequest(state.t.host, '/api/dialog.listFolder', {
        method: 'POST',
        headers: { 'x-leafseg-token': token, 'content-type': 'application/json' },
        body: JSON.stringify(args)
      })
    assert.match((await list({ dir: 'Trial 2026' })).body, /is a relative path/)
    assert.match((await list({ dir: join(root, 'nope') })).body, /Cannot list the folder .*nope: it does not exist/)

    // Without the token: an HTML page, for the page's address and for an API address opened in a browser.
    const port = new URL(state.t.host.url).port
    const other = await state.browser.newPage()
    const answer = await other.goto(`http://127.0.0.1:${port}/api/jobs.list`)
    assert.equal(answer?.status(), 401)
    assert.match(answer?.headers()['content-type'] ?? '', /text\/html/)
    await other.getByRole('heading', { name: 'Open Leafseg with its address' }).waitFor()
    assert.match((await other.textContent('body')) ?? '', new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?token=…[^]*leafseg serve`))
    await screenshot(other, 'feedback-09-no-token-page')
    await other.close()
  }
)
