// Decoded pixels as plain typed arrays, read and written through sharp.
import sharp from 'sharp'
import { rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'

/** Interleaved 8-bit pixels, row-major. channels: 1 (gray), 3 (RGB) or 4 (RGBA). */
export interface Raster {
  width: number
  height: number
  channels: 1 | 3 | 4
  data: Uint8Array
}

/**
 * Decode an image file to `channels` 8-bit channels, EXIF orientation applied.
 * 16-bit images are scaled to 8 bits. The error names the file.
 */
export async function readRaster(path: string, channels: 1 | 3 | 4): Promise<Raster> {
  try {
    let img = sharp(path, { failOn: 'truncated' }).rotate()
    img = channels === 1 ? img.grayscale() : channels === 3 ? img.removeAlpha().toColourspace('srgb') : img.ensureAlpha()
    const { data, info } = await img.toColourspace(channels === 1 ? 'b-w' : 'srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`)
    return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
  } catch (err) {
    throw new Error(`Cannot read the image ${path}: ${(err as Error).message}`)
  }
}

/** Write a raster as PNG atomically (temp file in the same folder, then rename). */
export async function writePng(path: string, raster: Raster): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  try {
    await sharp(Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.length), {
      raw: { width: raster.width, height: raster.height, channels: raster.channels }
    })
      .png()
      .toFile(tmp)
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw new Error(`Cannot write ${path}: ${(err as Error).message}`)
  }
}
