// Photo import speed: what an import does per photo (scan, sha256, probe, decode + 256 px WebP thumbnail,
// atomic write) over 1,000 generated 2048×1536 JPEGs. The files were just written, so they are read from the
// page cache (a cold disk adds its read time). LEAFSEG_BENCH_IMPORT_N changes the count.
import sharp from 'sharp'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench } from './types'
import { inspectPhotos, scanPhotos, type InspectTimings } from '../src/main/core/datasets/photos'
import { forEachBounded } from '../src/main/core/datasets/util'

const FIGURE = 'import.jpeg_2048x1536.images_per_s'
const WIDTH = 2048
const HEIGHT = 1536

/** A photo-like base (gradient plus mild noise), varied per file so every hash differs. */
async function makeJpegs(dir: string, count: number): Promise<number> {
  const noise = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 12 } } })
    .raw()
    .toBuffer()
  const base = Buffer.alloc(WIDTH * HEIGHT * 3)
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const p = (y * WIDTH + x) * 3
      base[p] = Math.min(255, 40 + (x * 120) / WIDTH + noise[p])
      base[p + 1] = Math.min(255, 90 + (y * 100) / HEIGHT + noise[p + 1])
      base[p + 2] = Math.min(255, 30 + noise[p + 2])
    }
  }
  let bytes = 0
  await forEachBounded(
    Array.from({ length: count }, (_, i) => i),
    2,
    undefined,
    async (i) => {
      const pixels = Buffer.from(base)
      pixels.writeUInt32LE(i, (HEIGHT / 2) * WIDTH * 3) // a few bytes differ per file
      const jpeg = await sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer()
      bytes += jpeg.length
      await writeFile(join(dir, `IMG_${String(i).padStart(4, '0')}.jpg`), jpeg)
    }
  )
  return bytes / count
}

const bench: Bench = {
  area: 'datasets',
  async run(emit, wanted) {
    if (!wanted(FIGURE)) return
    const count = Number(process.env.LEAFSEG_BENCH_IMPORT_N ?? 1000)
    const root = mkdtempSync(join(tmpdir(), 'leafseg-bench-import-'))
    try {
      const photos = join(root, 'photos')
      const thumbs = join(root, 'thumbs')
      mkdirSync(photos)
      mkdirSync(thumbs)
      const generateStart = performance.now()
      const meanBytes = await makeJpegs(photos, count)
      const generateMs = performance.now() - generateStart

      const start = performance.now()
      const { files } = await scanPhotos([photos])
      const scanMs = performance.now() - start
      const timings: InspectTimings = { hashMs: 0, probeMs: 0, decodeMs: 0, writeMs: 0 }
      const results = await inspectPhotos(files, { concurrency: 4, timings, thumbnail: { path: (hash) => join(thumbs, `${hash}.webp`) } })
      const totalMs = performance.now() - start
      const failed = results.filter((r) => !r.ok).length
      const round = (ms: number): number => Math.round(ms)
      emit({
        bench: FIGURE,
        value: failed ? null : Math.round((count / (totalMs / 1000)) * 10) / 10,
        unit: 'images/s',
        images: count,
        mean_file_kb: Math.round(meanBytes / 1024),
        concurrency: 4,
        total_ms: round(totalMs),
        scan_ms: round(scanMs),
        // Summed over photos worked on at once (4), so they add up to more than the wall-clock time.
        hash_ms_summed: round(timings.hashMs),
        probe_ms_summed: round(timings.probeMs),
        decode_thumbnail_ms_summed: round(timings.decodeMs),
        write_ms_summed: round(timings.writeMs),
        generate_ms: round(generateMs),
        note: failed ? `${failed} photos failed` : 'files in page cache; thumbnails 256 px WebP q80'
      })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
}

export default bench
