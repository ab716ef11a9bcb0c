// A small BMP decoder: sharp's libvips build has no BMP loader.
// Handles the uncompressed kinds that cameras, scanners and Windows tools write:
// 1/4/8-bit paletted, 16-bit (555/565 or bit fields), 24-bit, 32-bit (with or without alpha).
// RLE-compressed and embedded JPEG/PNG BMPs are refused with a message.

export interface DecodedBmp {
  width: number
  height: number
  channels: 3 | 4
  data: Uint8Array
}

const MAX_PIXELS = 1 << 28

/** True when the bytes start like a BMP file ('BM' followed by a known header size). */
export function looksLikeBmp(head: Uint8Array): boolean {
  if (head.length < 18 || head[0] !== 0x42 || head[1] !== 0x4d) return false
  const headerSize = head[14] | (head[15] << 8) | (head[16] << 16) | (head[17] << 24)
  return [12, 40, 52, 56, 64, 108, 124].includes(headerSize)
}

/** Decode a BMP held in memory. Throws an Error saying what is wrong (the caller adds the file name). */
export function decodeBmp(buf: Uint8Array): DecodedBmp {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  if (buf.length < 26 || !looksLikeBmp(buf)) throw new Error('not a BMP file')
  const pixelOffset = view.getUint32(10, true)
  const headerSize = view.getUint32(14, true)
  let width: number
  let rawHeight: number
  let bpp: number
  let compression = 0
  let paletteSize = 0
  let paletteEntryBytes = 4
  let masks: [number, number, number, number] | null = null
  if (headerSize === 12) {
    width = view.getUint16(18, true)
    rawHeight = view.getInt16(20, true)
    bpp = view.getUint16(24, true)
    paletteEntryBytes = 3
  } else {
    if (buf.length < 14 + 40) throw new Error('the file ends inside its header (truncated)')
    width = view.getInt32(18, true)
    rawHeight = view.getInt32(22, true)
    bpp = view.getUint16(28, true)
    compression = view.getUint32(30, true)
    paletteSize = view.getUint32(46, true)
    if (compression === 3 || compression === 6) {
      // Bit fields: inside V4/V5 headers, or right after a 40-byte header.
      const at = 14 + 40
      const withAlpha = headerSize >= 56 || compression === 6
      if (buf.length < at + (withAlpha ? 16 : 12)) throw new Error('the file ends inside its header (truncated)')
      masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true), withAlpha ? view.getUint32(at + 12, true) : 0]
    } else if (compression !== 0) {
      const kind =
        compression === 1 || compression === 2
          ? 'run-length compressed'
          : compression === 4
            ? 'JPEG inside BMP'
            : compression === 5
              ? 'PNG inside BMP'
              : `compression ${compression}`
      throw new Error(`this BMP is ${kind}, which Leafseg cannot read; save it as PNG or uncompressed BMP`)
    } else if (headerSize >= 108 && bpp === 32) {
      masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true), view.getUint32(66, true)]
      if (masks[0] === 0 && masks[1] === 0 && masks[2] === 0) masks = null
    }
  }
  const topDown = rawHeight < 0
  const height = Math.abs(rawHeight)
  if (width <= 0 || height <= 0 || width * height > MAX_PIXELS) throw new Error(`the BMP header gives an impossible size ${width}×${height}`)
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`${bpp} bits per pixel is not a BMP kind Leafseg can read`)

  let palette: Uint8Array | null = null
  if (bpp <= 8) {
    const count = paletteSize || 1 << bpp
    const at = 14 + headerSize + (masks && headerSize === 40 ? 12 : 0)
    if (at + count * paletteEntryBytes > buf.length) throw new Error('the file ends inside its colour table (truncated)')
    palette = new Uint8Array(256 * 3)
    for (let i = 0; i < Math.min(count, 256); i++) {
      const p = at + i * paletteEntryBytes
      palette[i * 3] = buf[p + 2]
      palette[i * 3 + 1] = buf[p + 1]
      palette[i * 3 + 2] = buf[p]
    }
  }
  if ((bpp === 16 || bpp === 32) && !masks) {
    masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0]
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4
  if (pixelOffset + stride * height > buf.length) throw new Error('the file ends before all its pixels (truncated)')
  const channels: 3 | 4 = masks && masks[3] !== 0 ? 4 : 3
  const out = new Uint8Array(width * height * channels)
  const fields = masks ? masks.map(fieldOf) : null

  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride
    let o = y * width * channels
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        const bitPos = x * bpp
        const byte = buf[row + (bitPos >> 3)]
        const index = bpp === 8 ? byte : (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1)
        out[o] = palette[index * 3]
        out[o + 1] = palette[index * 3 + 1]
        out[o + 2] = palette[index * 3 + 2]
      } else if (bpp === 24) {
        const p = row + x * 3
        out[o] = buf[p + 2]
        out[o + 1] = buf[p + 1]
        out[o + 2] = buf[p]
      } else {
        const value = bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true)
        for (let c = 0; c < channels; c++) out[o + c] = extract(value, fields![c])
      }
    }
  }
  // 32-bit files whose alpha is all zero mean "no alpha" (many writers leave it unset).
  if (channels === 4 && out.every((v, i) => (i & 3) !== 3 || v === 0)) {
    for (let i = 3; i < out.length; i += 4) out[i] = 255
  }
  return { width, height, channels, data: out }
}

interface Field {
  mask: number
  shift: number
  max: number
}

function fieldOf(mask: number): Field {
  if (mask === 0) return { mask: 0, shift: 0, max: 0 }
  let shift = 0
  while (((mask >>> shift) & 1) === 0) shift++
  return { mask, shift, max: mask >>> shift }
}

function extract(value: number, f: Field): number {
  if (f.max === 0) return 255
  return Math.round(((((value & f.mask) >>> 0) >>> f.shift) * 255) / f.max)
}
