// Start the real web host over the real core, for HTTP and browser tests.
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { LeafsegService } from '../../src/main/core/service/service'
import { forkJobProcess } from '../../src/main/core/job-process'
import { startWebHost, type WebHost } from '../../src/web/server'
import { before, after } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { tempDir } from './temp'
import { browserMissing, launchBrowser } from './browser'

export const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url))

export async function startTestHost(): Promise<{ host: WebHost; service: LeafsegService; userData: string; stop(): Promise<void> }> {
  if (!existsSync(rendererDir)) throw new Error(`The renderer is not built (${rendererDir}): run \`npx electron-vite build\` first (npm test does).`)
  const userData = tempDir('leafseg-userdata-')
  const service = new LeafsegService({ host: 'web', userDataDir: userData, jobProcess: forkJobProcess, typedPathsAreChoices: true, demoJob: true })
  const host = await startWebHost({ service, staticDir: rendererDir })
  return {
    host,
    service,
    userData,
    async stop() {
      await host.close()
      service.dispose()
    }
  }
}

/**
 * For an end-to-end test file: the web host over the real core and a Chromium page, started before its tests
 * and stopped after. `skip` says why when Chromium is missing.
 */
export function browserHost(viewport = { width: 1280, height: 820 }) {
  const skip = browserMissing() ?? false
  const state = {} as { t: Awaited<ReturnType<typeof startTestHost>>; browser: Browser; page: Page }
  before(async () => {
    if (skip) return
    state.t = await startTestHost()
    state.browser = await launchBrowser()
    state.page = await state.browser.newPage({ viewport })
  })
  after(async () => {
    if (skip) return
    await state.browser.close()
    await state.t.stop()
  })
  return { skip, state }
}
