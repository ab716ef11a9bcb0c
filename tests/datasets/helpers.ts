// Test data built in code: BMP files byte by byte (no library writes BMP), PNGs through sharp.
import sharp from 'sharp'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'

export const tempDir = (tag: string): string => mkdtempSync(join(tmpdir(), `leafseg-${tag}-`))

export type Rgba = [number, number, number, number]

export interface BmpSpec {
  width: number
  height: number
  bpp: 1 | 4 | 8 | 16 | 24 | 32
  pixel: (x: number, y: number) => Rgba
  /** For paletted kinds: the colours; pixel() must return one of them. */
  palette?: Rgba[]
  topDown?: boolean
  /** 16/32-bit: write bit fields (BI_BITFIELDS) with these masks [r, g, b, a]. */
  masks?: [number, number, number, number]
  compression?: number
}

/** Encode a BMP with a 40-byte BITMAPINFOHEADER (or 108-byte V4 when masks include alpha). */
export function makeBmp(s: BmpSpec): Buffer {
  const v4 = s.masks !== undefined && s.masks[3] !== 0
  const headerSize = v4 ? 108 : 40
  const maskBytes = s.masks && !v4 ? 12 : 0
  const paletteBytes = s.palette ? s.palette.length * 4 : 0
  const stride = Math.floor((s.bpp * s.width + 31) / 32) * 4
  const offset = 14 + headerSize + maskBytes + paletteBytes
  const buf = Buffer.alloc(offset + stride * s.height)
  buf.write('BM', 0, 'latin1')
  buf.writeUInt32LE(buf.length, 2)
  buf.writeUInt32LE(offset, 10)
  buf.writeUInt32LE(headerSize, 14)
  buf.writeInt32LE(s.width, 18)
  buf.writeInt32LE(s.topDown ? -s.height : s.height, 22)
  buf.writeUInt16LE(1, 26)
  buf.writeUInt16LE(s.bpp, 28)
  buf.writeUInt32LE(s.compression ?? (s.masks ? 3 : 0), 30)
  buf.writeUInt32LE(s.palette?.length ?? 0, 46)
  if (s.masks) s.masks.slice(0, v4 ? 4 : 3).forEach((m, i) => buf.writeUInt32LE(m >>> 0, 54 + i * 4))
  s.palette?.forEach((c, i) => {
    const p = 14 + headerSize + maskBytes + i * 4
    buf[p] = c[2]
    buf[p + 1] = c[1]
    buf[p + 2] = c[0]
  })
  const pack = (c: Rgba, masks: [number, number, number, number]): number =>
    masks.reduce((acc, m, i) => {
      if (!m) return acc
      let shift = 0
      while (((m >>> shift) & 1) === 0) shift++
      const max = m >>> shift
      return (acc | (Math.round((c[i] * max) / 255) << shift)) >>> 0
    }, 0)
  for (let y = 0; y < s.height; y++) {
    const row = offset + (s.topDown ? y : s.height - 1 - y) * stride
    for (let x = 0; x < s.width; x++) {
      const c = s.pixel(x, y)
      if (s.palette) {
        const index = s.palette.findIndex((p) => p.every((v, i) => v === c[i]))
        const bit = x * s.bpp
        buf[row + (bit >> 3)] |= index << (8 - s.bpp - (bit & 7))
      } else if (s.bpp === 24) {
        buf[row + x * 3] = c[2]
        buf[row + x * 3 + 1] = c[1]
        buf[row + x * 3 + 2] = c[0]
      } else if (s.bpp === 16) {
        buf.writeUInt16LE(pack(c, s.masks ?? [0x7c00, 0x03e0, 0x001f, 0]), row + x * 2)
      } else {
        buf.writeUInt32LE(pack(c, s.masks ?? [0xff0000, 0xff00, 0xff, 0]), row + x * 4)
      }
    }
  }
  return buf
}

/** PNG from raw pixels. */
export async function png(width: number, height: number, channels: 1 | 2 | 3 | 4, data: Uint8Array | number[]): Promise<Buffer> {
  return sharp(Buffer.from(Uint8Array.from(data)), { raw: { width, height, channels } })
    .png()
    .toBuffer()
}

/** A photo-like JPEG (noise on grey), optionally with an EXIF orientation. */
export async function jpeg(width: number, height: number, orientation?: number): Promise<Buffer> {
  let img = sharp({ create: { width, height, channels: 3, background: '#6a8a40', noise: { type: 'gaussian', mean: 120, sigma: 40 } } }).jpeg({ quality: 85 })
  if (orientation) img = img.withMetadata({ orientation })
  return img.toBuffer()
}

/** A 16-bit grayscale PNG written byte by byte (sharp does not take 16-bit raw input). */
export function gray16Png(width: number, height: number, values: number[]): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'latin1')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 16 // bit depth
  ihdr[9] = 0 // grayscale
  const rows = Buffer.alloc(height * (1 + width * 2))
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.writeUInt16BE(values[y * width + x], y * (1 + width * 2) + 1 + x * 2)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0))
  ])
}
