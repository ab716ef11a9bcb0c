// Generated leaf-like photos: green ellipses on a brownish textured background, with their masks.
import sharp from 'sharp'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { seededRandom } from '../../src/main/core/random'
import type { Sample } from '../../src/main/core/training/data'
import type { TrainingConfig } from '../../src/shared/api/training'

export async function makePhotos(dir: string, count: number, options: { width: number; height: number; seed?: number; format?: 'png' | 'jpg' }): Promise<Sample[]> {
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
    await sharp(mask, { raw: { width, height, channels: 1 } }).png().toFile(maskPath)
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
