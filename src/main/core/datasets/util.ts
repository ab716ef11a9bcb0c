import { basename, extname } from 'node:path'

/**
 * Run `worker` over `items` with at most `limit` running at once. Stops starting new items after the
 * first failure or an abort, waits for the running ones (so nothing is written after it returns), then throws.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  worker: (item: T, index: number) => Promise<void>
): Promise<void> {
  let next = 0
  let failed: { err: unknown } | null = null
  const lane = async (): Promise<void> => {
    while (failed === null && !signal?.aborted && next < items.length) {
      const i = next++
      try {
        await worker(items[i], i)
      } catch (err) {
        failed ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane))
  signal?.throwIfAborted()
  if (failed !== null) throw (failed as { err: unknown }).err
}

/** File name without folder and without its last extension. */
export function stemOf(path: string): string {
  const name = basename(path)
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(0, dot) : name
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.tif', '.tiff', '.bmp', '.dib', '.webp'])

/** True for names that promise an image (the content decides whether it is one). */
export function hasImageExtension(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase())
}
