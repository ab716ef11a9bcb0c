// Photos decoded one ahead: while the engine predicts one photo, the next is read and decoded (sharp works on its
// own threads), so decoding hides behind inference.
import { readRaster, type Raster } from '../imaging/raster'

export interface ReadPhoto<T> {
  item: T
  index: number
  /** The decoded RGB photo, or why it could not be read. */
  photo: Raster | null
  error: Error | null
}

export async function* readAhead<T>(items: readonly T[], pathOf: (item: T) => string): AsyncGenerator<ReadPhoto<T>> {
  // Never rejects: a photo that cannot be read is reported with its error, not thrown while unawaited.
  const read = (index: number): Promise<ReadPhoto<T>> =>
    readRaster(pathOf(items[index]), 3).then(
      (photo) => ({ item: items[index], index, photo, error: null }),
      (error: Error) => ({ item: items[index], index, photo: null, error })
    )
  let pending = items.length > 0 ? read(0) : null
  for (let i = 0; pending; i++) {
    const current = await pending
    pending = i + 1 < items.length ? read(i + 1) : null
    yield current
  }
}
