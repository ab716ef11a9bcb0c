// Bounds on the work any imported file can cause, so that a hostile or broken file is refused with a message
// naming it instead of exhausting memory or crashing the process. Each is far above what a real export needs.
import { stat, readFile } from 'node:fs/promises'
import { ApiError } from '../../../shared/errors'
import { formatBytes } from '../../../shared/format'
import { declaredPixels, maxImagePixels } from '../imaging/raster'

/** Largest annotation file read (COCO JSON, Labelbox export): it is parsed whole, in memory. */
export const maxAnnotationFileBytes = 250_000_000
/** Most entries in one list (images, annotations, export rows, objects of a row). */
export const maxEntries = 1_000_000
/** Most coordinates in one polygon (x and y each count). */
export const maxPolygonCoordinates = 1_000_000
/** Most boundary steps one polygon may take to rasterise (its perimeter at 5× resolution, after clipping). */
export const maxPolygonSteps = 10_000_000
export { maxImagePixels, declaredPixels } from '../imaging/raster'

/** "16000×16000 pixels is more than …": the refusal for an image (or an image size in an export) that is too large. */
export function tooLargeImage(width: number, height: number): string | null {
  return width * height <= maxImagePixels ? null : `it is too large: ${declaredPixels(width, height)}`
}

/** Read an annotation file as text, refusing one too large to parse safely. `what` names the kind ("COCO file"). */
export async function readAnnotationText(file: string, what: string): Promise<string> {
  let size: number
  try {
    size = (await stat(file)).size
  } catch (err) {
    throw new ApiError(
      'bad_input',
      `Cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`
    )
  }
  if (size > maxAnnotationFileBytes) {
    throw new ApiError(
      'bad_input',
      `The ${what} ${file} is ${formatBytes(size)}; Leafseg reads annotation files of up to ${formatBytes(maxAnnotationFileBytes)}. Split it into smaller files.`
    )
  }
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ApiError('bad_input', `Cannot read the ${what} ${file}: ${(err as Error).message}`)
  }
}
