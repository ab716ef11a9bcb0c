// Shared by the e2e tests of the inspector's photo tools (DOM types: checked with the e2e config only).
import type { Page } from 'playwright-core'

/**
 * Real mouse gestures in photo pixels on the element `testId`, which shows a width×height photo exactly (an editor's
 * layer): where a photo pixel is on the screen, a drag through photo points, a click.
 */
export function photoPointer(page: Page, testId: string, width: number, height: number) {
  const at = async (x: number, y: number): Promise<{ x: number; y: number }> => {
    const r = (await page.getByTestId(testId).boundingBox())!
    return { x: r.x + (x / width) * r.width, y: r.y + (y / height) * r.height }
  }
  return {
    at,
    async drag(points: [number, number][], button: 'left' | 'right' = 'left'): Promise<void> {
      const first = await at(...points[0])
      await page.mouse.move(first.x, first.y)
      await page.mouse.down({ button })
      for (const p of points.slice(1)) {
        const s = await at(...p)
        await page.mouse.move(s.x, s.y, { steps: 6 })
      }
      await page.mouse.up({ button })
    },
    async click(x: number, y: number): Promise<void> {
      const s = await at(x, y)
      await page.mouse.click(s.x, s.y)
    }
  }
}

/** The canvas inside the element `testId` read back as 0/255 per pixel (255 where it drew anything: alpha > 0). */
export async function drawnPixels(page: Page, testId: string): Promise<Uint8Array> {
  const values = await page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"] canvas`) as HTMLCanvasElement
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
    return Array.from({ length: c.width * c.height }, (_, i) => (d[i * 4 + 3] ? 255 : 0))
  }, testId)
  return Uint8Array.from(values)
}
