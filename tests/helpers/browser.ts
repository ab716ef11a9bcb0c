// Debian's Chromium driven by playwright-core: the real renderer against the real core through the web host.
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { waitFor } from './wait'

export const chromiumPath = process.env.LEAFSEG_CHROMIUM ?? '/usr/bin/chromium'
export const screenshotDir = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url))

/** Why browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return existsSync(chromiumPath) ? null : `Chromium not found at ${chromiumPath} (apt-get install chromium, or set LEAFSEG_CHROMIUM)`
}

/**
 * `showScrollbars`: scrollbars take room as on a desktop (headless Chromium hides them by default, so a layout that
 * forgets a scrollbar's width never shows its overflow there).
 */
export async function launchBrowser(options: { showScrollbars?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    ignoreDefaultArgs: options.showScrollbars ? ['--hide-scrollbars'] : undefined,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}

/** Save a screenshot under test-results/screenshots (look at them: they are how a person sees the change). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  await page.screenshot({ path, fullPage: false })
  return path
}

/**
 * Wait until the page has at least `atLeast` pan-and-zoom canvases and each shows its current photo and layer
 * (`data-drawn`): before reading their pixels or taking a screenshot. `what` names the moment for the error.
 */
export async function canvasesDrawn(page: Page, what: string, atLeast = 1): Promise<void> {
  const states = () => page.locator('canvas[data-drawn]').evaluateAll((canvases) => canvases.map((c) => c.getAttribute('data-drawn')))
  await waitFor(
    async () => {
      const drawn = await states()
      return drawn.length >= atLeast && drawn.every((d) => d === 'true')
    },
    { what: `${what}: each canvas on the page (at least ${atLeast}) showing its photo and layer`, timeoutMs: 30_000 }
  )
}
