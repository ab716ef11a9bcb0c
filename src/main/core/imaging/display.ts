// Files a renderer asks for, in a form a browser can show: TIFF photos are converted to PNG on the way.
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import sharp from 'sharp'

const browserTypes: Record<string, string> = {
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.jfif': 'image/jpeg',
  '.bmp': 'image/bmp',
  '.dib': 'image/bmp'
}

/** The content type a browser shows `path` as, or null when it must be converted first (TIFF). */
export function browserImageType(path: string): string | null {
  return browserTypes[extname(path).toLowerCase()] ?? null
}

export async function displayFile(path: string): Promise<{ body: Buffer; contentType: string }> {
  const ext = extname(path).toLowerCase()
  const type = browserTypes[ext]
  if (type) return { body: await readFile(path), contentType: type }
  if (ext === '.tif' || ext === '.tiff') return { body: await sharp(path).rotate().png().toBuffer(), contentType: 'image/png' }
  return { body: await readFile(path), contentType: 'application/octet-stream' }
}
