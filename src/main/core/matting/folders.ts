// Matting on plain folders, outside a project: a trimap per mask, an alpha matte (and cutout) per photo.
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiError, errorMessage } from '../../../shared/errors'
import type { ApiArgs, ApiResult } from '../../../shared/api'
import type { MattingResult } from '../../../shared/api/matting'
import { matchMasksToPhotos } from '../datasets/match'
import { stemOf } from '../datasets/util'
import { matteBatch, writeTrimapForMask, type MatteItem } from './files'

type Progress = (done: number, total: number, message: string) => void

/** Suffixes that mark a trimap beside its photo (IMG_1.jpg ↔ IMG_1_trimap.png). */
const trimapSuffixes = ['_trimap', '-trimap', '_tri']

async function imageFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    throw new ApiError(
      'not_found',
      `Cannot read the folder ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}.`
    )
  }
  return names.filter((f) => /\.(png|jpe?g|tiff?|bmp|webp)$/i.test(f)).map((f) => join(dir, f))
}

export async function trimapFolder(args: ApiArgs<'matting.trimapFolder'>, onProgress: Progress): Promise<ApiResult<'matting.trimapFolder'>> {
  const { masks: dir, out, ...settings } = args
  const masks = await imageFiles(dir)
  if (masks.length === 0) throw new ApiError('bad_input', `No mask images in ${dir}.`)
  await mkdir(out, { recursive: true })
  const result: MattingResult = { made: 0, problems: [] }
  for (const [i, mask] of masks.entries()) {
    try {
      await writeTrimapForMask(mask, join(out, `${stemOf(mask)}.png`), settings)
      result.made++
    } catch (err) {
      result.problems.push({ photo: mask, reason: errorMessage(err) })
    }
    onProgress(i + 1, masks.length, mask)
  }
  return { ...result, out }
}

export async function matteFolder(args: ApiArgs<'matting.matteFolder'>, onProgress: Progress): Promise<ApiResult<'matting.matteFolder'>> {
  const match = matchMasksToPhotos(await imageFiles(args.images), await imageFiles(args.trimaps), { suffixes: trimapSuffixes })
  if (match.pairs.length === 0) throw new ApiError('bad_input', `No trimap in ${args.trimaps} matches a photo in ${args.images} by name.`)
  await mkdir(args.out, { recursive: true })
  if (args.cutouts) await mkdir(args.cutouts, { recursive: true })
  const items: MatteItem[] = match.pairs.map((p) => ({
    image: p.photo,
    trimap: p.mask,
    alphaOut: join(args.out, `${stemOf(p.photo)}.png`),
    cutoutOut: args.cutouts ? join(args.cutouts, `${stemOf(p.photo)}.png`) : undefined
  }))
  const outcome = await matteBatch(items, { onProgress: (d, t, m) => onProgress(d, t, m ?? '') })
  return {
    made: outcome.done.length,
    problems: outcome.failed.map((f) => ({ photo: f.item.image, reason: f.message })),
    unmatchedPhotos: match.unmatchedPhotos.map((u) => u.path),
    out: args.out
  }
}
