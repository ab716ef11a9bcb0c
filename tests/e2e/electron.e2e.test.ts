// The desktop app itself, through Playwright's Electron driver. It needs Electron's binary, which is
// downloaded on first use and cannot be fetched offline: without it this test says so and is skipped.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { _electron } from 'playwright-core'
import { screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/temp'

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

test('the Electron window opens on the start screen and creates a project', { skip: skip ?? false }, async () => {
  const app = await _electron.launch({
    executablePath: binary!,
    args: [fileURLToPath(new URL('../..', import.meta.url))],
    env: { ...process.env, LEAFSEG_USER_DATA: tempDir() }
  })
  try {
    const page = await app.firstWindow()
    await page.getByRole('heading', { name: 'New project' }).waitFor()
    const isolated = await page.evaluate('typeof require === "undefined" && typeof process === "undefined"')
    assert.ok(isolated, 'no Node in the renderer')
    await screenshot(page, 'electron-01-start')
  } finally {
    await app.close()
  }
})
