// grid.scroll_10k.frame_ms: median frame time while the dataset grid scrolls through 10,000 photos in Chromium.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { mkdtempSync } from 'node:fs'
import sharp from 'sharp'
import type { Bench } from './types'
import { LeafsegService } from '../src/main/core/service/service'
import { inProcessJobs } from '../src/node-host/job-process'
import { startWebHost } from '../src/web/server'
import { insertPhoto } from '../src/main/core/datasets/records'
import { browserMissing, launchBrowser } from '../tests/helpers/browser'
import { rendererDir } from '../tests/helpers/webhost'

const bench: Bench = {
  area: 'grid',
  async run(emit, wanted) {
    const name = 'grid.scroll_10k.frame_ms'
    if (!wanted(name)) return
    const missing = browserMissing()
    if (missing) return emit({ bench: name, value: null, unit: 'ms', note: missing })
    const temp = mkdtempSync(join(tmpdir(), 'leafseg-bench-grid-'))
    const service = new LeafsegService({ host: 'web', userDataDir: temp, jobProcess: inProcessJobs, typedPathsAreChoices: true })
    await service.api['projects.create']({ dir: join(temp, 'project'), name: 'Grid bench' })
    const dataset = await service.api['datasets.create']({ name: '10k' })
    const { project } = service.requireProject()
    // 10,000 photo records with 50 distinct real thumbnails: the grid's work is the same as for 10,000 different ones.
    mkdirSync(project.path('thumbnails', 'bench'), { recursive: true })
    for (let t = 0; t < 50; t++) {
      const webp = await sharp({ create: { width: 256, height: 192, channels: 3, background: { r: 40 + t * 3, g: 120 + t, b: 60 } } })
        .webp()
        .toBuffer()
      writeFileSync(project.path('thumbnails', 'bench', `${t}.webp`), webp)
    }
    project.db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        insertPhoto(project.db, {
          datasetId: dataset.id,
          name: `photo_${String(i).padStart(5, '0')}.jpg`,
          file: `photos/bench/${i}.jpg`,
          thumbnail: `thumbnails/bench/${i % 50}.webp`,
          hash: `h${i}`,
          bytes: 1,
          width: 2048,
          height: 1536,
          sourcePath: null
        })
      }
    })()
    const host = await startWebHost({ service, staticDir: rendererDir })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      await page.goto(host.url)
      await page.getByTestId('photo-grid').waitFor()
      await page.getByTestId('grid-count').filter({ hasText: '10000 shown' }).waitFor()
      const frames = await page.evaluate(async () => {
        const grid = document.querySelector('[data-testid="photo-grid"]') as HTMLElement
        const times: number[] = []
        let last = performance.now()
        const step = (grid.scrollHeight - grid.clientHeight) / 600
        for (let i = 0; i < 600; i++) {
          grid.scrollTop = Math.round(step * i)
          await new Promise(requestAnimationFrame)
          const now = performance.now()
          times.push(now - last)
          last = now
        }
        return times
      })
      const sorted = [...frames].sort((a, b) => a - b)
      emit({
        bench: name,
        value: Number(sorted[Math.floor(sorted.length / 2)].toFixed(2)),
        unit: 'ms',
        p95_ms: Number(sorted[Math.floor(sorted.length * 0.95)].toFixed(2)),
        frames: frames.length,
        browser: 'chromium (headless, no GPU)'
      })
    } finally {
      await browser.close()
      await host.close()
      service.dispose()
    }
  }
}

export default bench
