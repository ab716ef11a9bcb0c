// Generated leaf-like photos: green ellipses on a brownish textured background, with their masks.
import sharp from 'sharp'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { seededRandom } from '../../src/shared/random'
import type { Sample } from '../../src/main/core/training/data'
import type { TrainingConfig } from '../../src/shared/api/training'
import { writeInstanceIds } from '../../src/main/core/datasets/instances'

export async function makePhotos(
  dir: string,
  count: number,
  options: { width: number; height: number; seed?: number; format?: 'png' | 'jpg' }
): Promise<Sample[]> {
  const { width, height, seed = 1, format = 'png' } = options
  await mkdir(dir, { recursive: true })
  const random = seededRandom(seed)
  const samples: Sample[] = []
  for (let i = 0; i < count; i++) {
    const rgb = Buffer.alloc(width * height * 3)
    const mask = Buffer.alloc(width * height)
    const leaves = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      cx: random() * width,
      cy: random() * height,
      rx: (0.12 + random() * 0.2) * width,
      ry: (0.08 + random() * 0.12) * height,
      angle: random() * Math.PI,
      green: 120 + random() * 100
    }))
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const o = y * width + x
        const grain = random() * 50
        let r = 110 + grain
        let g = 85 + grain * 0.8
        let b = 60 + grain * 0.5
        for (const l of leaves) {
          const dx = x - l.cx
          const dy = y - l.cy
          const u = (dx * Math.cos(l.angle) + dy * Math.sin(l.angle)) / l.rx
          const v = (-dx * Math.sin(l.angle) + dy * Math.cos(l.angle)) / l.ry
          if (u * u + v * v <= 1) {
            r = 40 + grain * 0.4
            g = l.green + grain * 0.5
            b = 35 + grain * 0.3
            mask[o] = 255
          }
        }
        rgb[o * 3] = r
        rgb[o * 3 + 1] = g
        rgb[o * 3 + 2] = b
      }
    const id = `leaf${String(i).padStart(3, '0')}`
    const imagePath = join(dir, `${id}.${format}`)
    const maskPath = join(dir, `${id}.mask.png`)
    const photo = sharp(rgb, { raw: { width, height, channels: 3 } })
    await (format === 'png' ? photo.png() : photo.jpeg({ quality: 90 })).toFile(imagePath)
    await sharp(mask, { raw: { width, height, channels: 1 } })
      .png()
      .toFile(maskPath)
    samples.push({ id, imagePath, maskPath })
  }
  return samples
}

/** A U-Net small enough to train in seconds on the generated photos (32 px input, 8 filters, depth 2). */
export function tinyConfig(epochs: number, learningRate: number): TrainingConfig {
  return {
    preset: 'custom',
    inputSize: 32,
    baseFilters: 8,
    depth: 2,
    batchSize: 4,
    epochs,
    learningRate,
    loss: 'bce+dice',
    patience: 0,
    seed: 3,
    augment: { flips: true, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false }
  }
}

/** Side of the touching-disc photos. */
export const DISC_SIZE = 32

/** Two discs of different greens that touch along a short darker seam, on a brown background. */
export async function touchingDiscs(dir: string, count: number, seed: number): Promise<(Sample & { ids: Uint16Array })[]> {
  await mkdir(dir, { recursive: true })
  const random = seededRandom(seed)
  const out: (Sample & { ids: Uint16Array })[] = []
  for (let k = 0; k < count; k++) {
    const r1 = 6 + random() * 3
    const r2 = 6 + random() * 3
    const angle = random() * Math.PI
    const gap = r1 + r2 - 2 - random() * 2 // overlapping by 2-4 px: one connected blob
    const cx = DISC_SIZE / 2 - (Math.cos(angle) * gap) / 2
    const cy = DISC_SIZE / 2 - (Math.sin(angle) * gap) / 2
    const discs = [
      { x: cx, y: cy, r: r1, green: 150 + random() * 60 },
      { x: cx + Math.cos(angle) * gap, y: cy + Math.sin(angle) * gap, r: r2, green: 150 + random() * 60 }
    ]
    const rgb = Buffer.alloc(DISC_SIZE * DISC_SIZE * 3)
    const mask = Buffer.alloc(DISC_SIZE * DISC_SIZE)
    const ids = new Uint16Array(DISC_SIZE * DISC_SIZE)
    for (let y = 0; y < DISC_SIZE; y++)
      for (let x = 0; x < DISC_SIZE; x++) {
        const o = y * DISC_SIZE + x
        const grain = random() * 30
        let colour = [110 + grain, 85 + grain, 60 + grain]
        const d = discs.map((c) => Math.hypot(x - c.x, y - c.y) / c.r)
        const nearest = d[0] <= d[1] ? 0 : 1
        if (d[nearest] <= 1) {
          ids[o] = nearest + 1
          mask[o] = 255
          // Each leaf darkens towards its own edge, so the seam between two leaves shows.
          const shade = 1 - 0.45 * d[nearest] ** 4
          colour = [40 + grain * 0.3, discs[nearest].green * shade + grain * 0.3, 35]
        }
        rgb.set(
          colour.map((v) => Math.max(0, Math.min(255, Math.round(v)))),
          o * 3
        )
      }
    const id = `discs${k}`
    const imagePath = join(dir, `${id}.png`)
    const maskPath = join(dir, `${id}.mask.png`)
    const instancesPath = join(dir, `${id}.instances.png`)
    await sharp(rgb, { raw: { width: DISC_SIZE, height: DISC_SIZE, channels: 3 } })
      .png()
      .toFile(imagePath)
    await sharp(mask, { raw: { width: DISC_SIZE, height: DISC_SIZE, channels: 1 } })
      .png()
      .toFile(maskPath)
    await writeInstanceIds(instancesPath, { width: DISC_SIZE, height: DISC_SIZE, ids, count: 2 })
    // The same leaves as a colour label image (one colour per leaf on black), as komatsuna labels them.
    const colours = [
      [0, 0, 0],
      [220, 40, 40],
      [40, 200, 60]
    ]
    await sharp(Buffer.from(Array.from(ids).flatMap((v) => colours[v])), { raw: { width: DISC_SIZE, height: DISC_SIZE, channels: 3 } })
      .png()
      .toFile(join(dir, `${id}.label.png`))
    out.push({ id, imagePath, maskPath, instancesPath, ids })
  }
  return out
}
