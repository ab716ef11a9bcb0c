// The desktop app itself, through Playwright's Electron driver, on the workflow the web-host end-to-end tests
// cover. It needs Electron's binary, which is downloaded on first use and cannot be fetched offline: without it
// this test says so and is skipped (tests/desktop/ checks the built bundles without Electron).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { _electron } from 'playwright-core'
import { screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'

const require = createRequire(import.meta.url)

/** The Electron binary if it was already downloaded; never triggers the download (requiring 'electron' would). */
function electronBinary(): string | null {
  const pkg = dirname(require.resolve('electron/package.json'))
  const pathFile = join(pkg, 'path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

function abiMismatch(): string | null {
  // better-sqlite3 must be built for Electron's ABI (npm start does it); the test suite builds it for Node.
  return process.env.LEAFSEG_ELECTRON_E2E ? null : 'set LEAFSEG_ELECTRON_E2E=1 after `node scripts/native.mjs electron` to run it'
}

const binary = electronBinary()
const skip = !binary
  ? 'SKIPPED: no Electron binary here (Electron downloads it on first use, and this machine is offline). The same UI is tested in Chromium through the web host.'
  : abiMismatch()
if (skip) console.log(`# electron end-to-end: ${skip}`)

test('the desktop app: a project, photos and masks, trimaps and mattes, a tiny training run, its evaluation', { skip: skip ?? false }, async () => {
  // Generated photos and masks, in folders the (stubbed) native folder dialog hands over.
  const source = tempDir()
  const samples = await makePhotos(join(source, 'photos'), 10, { width: 48, height: 40, seed: 7 })
  mkdirSync(join(source, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(source, 'masks', `${s.id}.png`))
  const projectDir = join(tempDir(), 'Electron project')

  const app = await _electron.launch({
    executablePath: binary!,
    args: [fileURLToPath(new URL('../..', import.meta.url))],
    env: { ...process.env, LEAFSEG_USER_DATA: tempDir() }
  })
  const page = await app.firstWindow()
  /** The next native folder dialog answers `dir`. */
  const nextFolder = (dir: string) =>
    app.evaluate(({ dialog }, chosen) => {
      dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [chosen] })) as typeof dialog.showOpenDialog
    }, dir)
  const choose = async (testid: string, dir: string) => {
    await nextFolder(dir)
    await page.getByTestId(testid).locator('..').getByRole('button', { name: 'Choose…' }).click()
    await page.waitForFunction(([id, value]) => (document.querySelector(`[data-testid="${id}"]`) as HTMLInputElement | null)?.value === value, [testid, dir])
  }
  const jobDone = (kind: string, timeout = 60_000) =>
    page.locator(`[data-testid="job"][data-kind="${kind}"][data-status="succeeded"]`).first().waitFor({ timeout })
  try {
    await page.getByRole('heading', { name: 'New project' }).waitFor()
    const isolated = await page.evaluate('typeof require === "undefined" && typeof process === "undefined"')
    assert.ok(isolated, 'no Node in the renderer')
    await screenshot(page, 'electron-01-start')

    await page.getByTestId('new-name').fill('Electron e2e')
    await choose('new-dir', projectDir)
    await page.getByTestId('create-project').click()
    await page.getByTestId('project-name').filter({ hasText: 'Electron e2e' }).waitFor()

    await page.getByTestId('new-dataset-name').fill('Leaves')
    await page.getByTestId('create-dataset').click()
    await page.getByTestId('dataset-summary').waitFor()
    await choose('photo-dir', join(source, 'photos'))
    await page.getByTestId('import-photos').click()
    await jobDone('import-photos')
    await page.getByTestId('import-masks').click()
    await choose('mask-dir', join(source, 'masks'))
    await page.getByTestId('start-mask-import').click()
    await jobDone('import-masks')
    await page.getByTestId('dataset-summary').filter({ hasText: '10 with masks' }).waitFor()
    await page.getByTestId('open-split').click()
    await page.getByTestId('apply-split').click()
    await screenshot(page, 'electron-02-dataset')

    // The trimap layer (leafseg-file: images through the app's protocol), then mattes in the job process.
    await page.getByTestId('photo-cell').first().click()
    await page.getByTestId('inspector').waitFor()
    await page.getByTestId('layer-trimap').click()
    await page.getByTestId('trimap-stats').waitFor()
    await page.getByTestId('matte-dataset').click()
    await jobDone('mattes')
    await screenshot(page, 'electron-03-trimap-matte')
    await page.keyboard.press('Escape')
    await page.getByTestId('inspector').waitFor({ state: 'detached' })

    // A tiny training run in the utility process.
    await page.getByTestId('nav-training').click()
    await page.getByTestId('preset-custom').check()
    for (const [id, value] of [
      ['cfg-input-size', '32'],
      ['cfg-filters', '4'],
      ['cfg-depth', '2'],
      ['cfg-batch', '4'],
      ['cfg-epochs', '1'],
      ['cfg-patience', '0']
    ] as const)
      await page.getByTestId(id).fill(value)
    await page.getByTestId('run-name').fill('Electron run')
    await page.getByTestId('start-training').click()
    await page.locator('[data-testid="current-run"][data-status="completed"]').waitFor({ timeout: 180_000 })
    await screenshot(page, 'electron-04-trained')

    // Its evaluation on the validation photos.
    await page.getByTestId('nav-compare').click()
    await page.locator('[data-testid="compare-run"]').first().check()
    await page.getByTestId('evaluate-missing').click()
    await page.getByTestId('not-evaluated').waitFor({ state: 'detached', timeout: 120_000 })
    await page.getByTestId('compare-photo-row').first().waitFor()
    await screenshot(page, 'electron-05-evaluated')
    assert.equal(await page.getByTestId('notice-error').count(), 0, 'no error was shown')
  } finally {
    await app.close()
  }
})
