// The foundation end to end in Chromium: projects, recent list, the shell, jobs with progress and cancel.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { screenshot } from '../helpers/browser'
import { browserHost } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'

const { skip, state } = browserHost({ width: 1280, height: 800 })

test('create a project, find it in the recent list after a reload, run and cancel jobs', { skip }, async () => {
  const dir = join(tempDir(), 'Grapevine project')
  await state.page.goto(state.t.host.url)
  await state.page.getByRole('heading', { name: 'New project' }).waitFor()
  assert.ok(!state.page.url().includes('token='), 'the token is removed from the address bar')
  await screenshot(state.page, 'shell-01-start-empty')

  await state.page.getByTestId('new-name').fill('Grapevine 2026')
  await state.page.getByTestId('new-dir').fill(dir)
  await state.page.getByTestId('create-project').click()
  await state.page.getByTestId('project-name').filter({ hasText: 'Grapevine 2026' }).waitFor()
  for (const view of ['training', 'runs', 'compare', 'predict', 'datasets']) {
    await state.page.getByTestId(`nav-${view}`).click()
    await state.page.getByTestId(`view-${view}`).waitFor()
  }
  await screenshot(state.page, 'shell-02-project-open')

  await state.page.getByTestId('close-project').click()
  await state.page.reload()
  const recent = state.page.getByTestId('recent-projects')
  await recent.getByText('Grapevine 2026').waitFor()
  await screenshot(state.page, 'shell-03-recent-after-reload')

  await recent.getByText('Grapevine 2026').click()
  await state.page.getByTestId('project-name').waitFor()

  // A test job runs to the end with a progress bar.
  await state.page.getByTestId('start-demo-job').click()
  const first = state.page.getByTestId('job').first()
  await first.locator('progress').waitFor()
  await screenshot(state.page, 'shell-04-job-running')
  await state.page.locator('[data-testid="job"][data-status="succeeded"]').first().waitFor({ timeout: 20_000 })
  await screenshot(state.page, 'shell-05-job-done')

  // Another one, cancelled midway.
  await state.page.getByTestId('start-demo-job').click()
  const running = state.page.locator('[data-testid="job"][data-status="running"]').first()
  await running.waitFor()
  // Midway: once its bar has moved (40 steps of 100 ms leave it seconds to go).
  await waitFor(async () => Number(await running.locator('progress').getAttribute('value')) > 0, { what: 'the second test job to make progress' })
  await running.getByTestId('cancel-job').click()
  await state.page.locator('[data-testid="job"][data-status="cancelled"]').first().waitFor({ timeout: 10_000 })
  await screenshot(state.page, 'shell-06-job-cancelled')
  const statuses = await state.page.getByTestId('job').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))
  assert.deepEqual(statuses.sort(), ['cancelled', 'succeeded'])
})

test('opening a folder that is not a project shows a message naming it', { skip }, async () => {
  await state.page.getByTestId('close-project').click()
  const notProject = tempDir()
  await state.page.getByTestId('open-dir').fill(notProject)
  await state.page.getByTestId('open-project').click()
  const notice = state.page.getByTestId('notice-error')
  await notice.waitFor()
  assert.match((await notice.textContent()) ?? '', new RegExp(`${notProject}.*not a Leafseg project`))
  await screenshot(state.page, 'shell-07-not-a-project')
})

test('clean up project: what would go is listed first, then removed, and the dialog says what was freed', { skip }, async () => {
  const dir = join(tempDir(), 'Cleanup project')
  await state.t.service.api['projects.create']({ dir, name: 'Cleanup' })
  await state.page.reload()
  await state.page.getByTestId('project-name').filter({ hasText: 'Cleanup' }).waitFor()
  // Leftovers of a deleted run and a deleted prediction batch.
  mkdirSync(join(dir, 'runs', '12', 'last'), { recursive: true })
  writeFileSync(join(dir, 'runs', '12', 'last', 'weights.bin'), Buffer.alloc(250_000))
  mkdirSync(join(dir, 'predictions', '4'), { recursive: true })
  writeFileSync(join(dir, 'predictions', '4', 'leaf.png'), Buffer.alloc(1_000))
  // Close project sits apart from Clean up project (by the project's name), so one is not clicked for the other.
  const clean = (await state.page.getByTestId('clean-project').boundingBox())!
  const close = (await state.page.getByTestId('close-project').boundingBox())!
  assert.ok(clean.y - (close.y + close.height) > 200, `Close project (y ${close.y}) is far above Clean up project (y ${clean.y})`)
  await state.page.getByTestId('clean-project').click()
  const summary = state.page.getByTestId('cleanup-summary')
  await summary.filter({ hasText: 'Can remove' }).waitFor()
  assert.match((await summary.textContent()) ?? '', /Can remove 2 files, 251 kB/)
  await screenshot(state.page, 'shell-08-cleanup-dry-run')
  assert.ok(existsSync(join(dir, 'runs', '12')), 'nothing removed before the person agrees')
  await state.page.getByTestId('cleanup-remove').click()
  await summary.filter({ hasText: 'Removed 2 files, 251 kB' }).waitFor()
  await screenshot(state.page, 'shell-09-cleanup-done')
  assert.ok(!existsSync(join(dir, 'runs', '12')) && !existsSync(join(dir, 'predictions', '4')))
})

test('a project on a full disk opens read-only with a banner saying why, and refuses changes plainly', { skip }, async () => {
  const mountPoint = tempDir()
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint])
  try {
    const dir = join(mountPoint, 'Full project')
    await state.t.service.api['projects.create']({ dir, name: 'On a full disk' })
    state.t.service.closeProject()
    try {
      writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(8 << 20)) // more than fits: the disk fills up
    } catch {
      // ENOSPC: the disk is now full, as wanted
    }
    await state.page.reload()
    await state.page.getByTestId('open-dir').fill(dir)
    await state.page.getByTestId('open-project').click()
    const banner = state.page.getByTestId('read-only-banner')
    await banner.waitFor()
    assert.match((await banner.textContent()) ?? '', /Read-only: this project can be looked at but not changed — the disk holding it is full/)
    await state.page.getByPlaceholder('New dataset name').fill('Vines')
    await state.page.getByRole('button', { name: 'Create dataset' }).click()
    const notice = state.page.getByTestId('notice-error')
    await notice.waitFor()
    assert.match((await notice.textContent()) ?? '', /This project is open read-only: the disk holding it is full/)
    await screenshot(state.page, 'shell-10-read-only-full-disk')
  } finally {
    state.t.service.closeProject()
    execFileSync('umount', ['-l', mountPoint])
  }
})
