// The foundation end to end in Chromium: projects, recent list, the shell, jobs with progress and cancel.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
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
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
})
after(async () => {
  if (skip) return
  await browser.close()
  await t.stop()
})

test('create a project, find it in the recent list after a reload, run and cancel jobs', { skip: skip ?? false }, async () => {
  const dir = join(tempDir(), 'Grapevine project')
  await page.goto(t.host.url)
  await page.getByRole('heading', { name: 'New project' }).waitFor()
  assert.ok(!page.url().includes('token='), 'the token is removed from the address bar')
  await screenshot(page, 'shell-01-start-empty')

  await page.getByTestId('new-name').fill('Grapevine 2026')
  await page.getByTestId('new-dir').fill(dir)
  await page.getByTestId('create-project').click()
  await page.getByTestId('project-name').filter({ hasText: 'Grapevine 2026' }).waitFor()
  for (const view of ['training', 'runs', 'compare', 'predict', 'datasets']) {
    await page.getByTestId(`nav-${view}`).click()
    await page.getByTestId(`view-${view}`).waitFor()
  }
  await screenshot(page, 'shell-02-project-open')

  await page.getByTestId('close-project').click()
  await page.reload()
  const recent = page.getByTestId('recent-projects')
  await recent.getByText('Grapevine 2026').waitFor()
  await screenshot(page, 'shell-03-recent-after-reload')

  await recent.getByText('Grapevine 2026').click()
  await page.getByTestId('project-name').waitFor()

  // A test job runs to the end with a progress bar.
  await page.getByTestId('start-demo-job').click()
  const first = page.getByTestId('job').first()
  await first.locator('progress').waitFor()
  await screenshot(page, 'shell-04-job-running')
  await page.locator('[data-testid="job"][data-status="succeeded"]').first().waitFor({ timeout: 20_000 })
  await screenshot(page, 'shell-05-job-done')

  // Another one, cancelled midway.
  await page.getByTestId('start-demo-job').click()
  const running = page.locator('[data-testid="job"][data-status="running"]').first()
  await running.waitFor()
  await page.waitForTimeout(600)
  await running.getByTestId('cancel-job').click()
  await page.locator('[data-testid="job"][data-status="cancelled"]').first().waitFor({ timeout: 10_000 })
  await screenshot(page, 'shell-06-job-cancelled')
  const statuses = await page.getByTestId('job').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))
  assert.deepEqual(statuses.sort(), ['cancelled', 'succeeded'])
})

test('opening a folder that is not a project shows a message naming it', { skip: skip ?? false }, async () => {
  await page.getByTestId('close-project').click()
  const notProject = tempDir()
  await page.getByTestId('open-dir').fill(notProject)
  await page.getByTestId('open-project').click()
  const notice = page.getByTestId('notice-error')
  await notice.waitFor()
  assert.match((await notice.textContent()) ?? '', new RegExp(`${notProject}.*not a Leafseg project`))
  await screenshot(page, 'shell-07-not-a-project')
})
