// Matting for a dataset: trimaps (with the user's settings) and alpha mattes, recorded in SQLite with the
// mask they were made from, so a changed mask marks them stale; cutouts exported from the stored mattes.
import { mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ApiError } from '../../../shared/errors'
import type { PhotoDetail, TrimapChoice } from '../../../shared/domain'
import type { JobContext } from '../jobs/context'
import type { Db } from '../store/database'
import type { MattingResult } from '../../../shared/api/matting'
import type { Project } from '../project'
import { readRaster, writePng } from '../imaging/raster'
import { datasetPhotos, getDataset } from '../datasets/records'
import { stemOf } from '../datasets/util'
import { writeTrimapForMask } from './files'
import { matteOnCores } from './pool'
import { estimateForeground, makeCutout } from './foreground'
import { recordMatte, recordTrimap, saveTrimapSettings, storedTrimap, type StoredTrimap } from './records'
import { isDiskFull, withSpaceNeeded } from '../store/errors'

const rel = (project: Project, path: string) => relative(project.dir, path).split('\\').join('/')

function labelledPhotos(db: Db, datasetId: number, photoIds?: number[]): PhotoDetail[] {
  const wanted = photoIds ? new Set(photoIds) : null
  const photos = datasetPhotos(db, datasetId).filter((p) => p.mask && (!wanted || wanted.has(p.id)))
  if (photos.length === 0) throw new ApiError('bad_input', 'No photo here has a mask: trimaps and mattes are made from masks. Import masks first.')
  return photos
}

/** Make (or remake) one photo's trimap with the given settings and record it (with the values 'auto' chose). */
async function makeTrimap(project: Project, photo: PhotoDetail, s: TrimapChoice): Promise<void> {
  mkdirSync(project.path('trimaps'), { recursive: true })
  const file = project.path('trimaps', `${photo.id}.png`)
  const made = await writeTrimapForMask(join(project.dir, photo.mask!.file), file, s)
  recordTrimap(project.db, photo.id, rel(project, file), made.settings, photo.mask!.hash, made.unknown)
}

/**
 * A failure told about the photo the user knows ("The mask of plant031.png is cut short …"), not about the
 * project's own files (masks/301.png, trimaps/301.png), which the user never saw.
 */
function aboutPhoto(project: Project, photo: PhotoDetail, message: string): string {
  const files: [string | undefined, string][] = [
    [photo.mask?.file, `the mask of ${photo.name}`],
    [photo.trimap?.file, `the trimap of ${photo.name}`],
    [`trimaps/${photo.id}.png`, `the trimap of ${photo.name}`],
    [photo.file, `the photo ${photo.name}`]
  ]
  let said = message
  for (const [file, words] of files) {
    if (!file) continue
    const path = join(project.dir, file)
    said = said.split(`The mask ${path}`).join(words).split(`the mask ${path}`).join(words).split(path).join(words)
  }
  return said.charAt(0).toUpperCase() + said.slice(1)
}

/** A generous guess at the bytes of one PNG per photo (trimaps compress to a few % of a byte per pixel, mattes less well). */
function pngBytes(photos: PhotoDetail[], bytesPerPixel: number): number {
  return Math.round(photos.reduce((sum, p) => sum + p.width * p.height * bytesPerPixel, 0))
}

export async function trimapsJob(params: { datasetId: number; settings: TrimapChoice }, ctx: JobContext<'trimaps'>): Promise<MattingResult> {
  const { project, signal } = ctx
  getDataset(project.db, params.datasetId)
  const photos = labelledPhotos(project.db, params.datasetId)
  saveTrimapSettings(project.db, params.datasetId, params.settings)
  const result: MattingResult = { made: 0, problems: [] }
  for (let i = 0; i < photos.length; i++) {
    signal.throwIfAborted()
    try {
      await makeTrimap(project, photos[i], params.settings)
      result.made++
    } catch (err) {
      // A full disk is not this photo's problem: stop, saying how much room the trimaps need.
      if (isDiskFull(err)) throw withSpaceNeeded(err, 'the trimaps could not be saved', project.dir, pngBytes(photos.slice(i), 0.1))
      result.problems.push({ photo: photos[i].name, reason: aboutPhoto(project, photos[i], (err as Error).message) })
    }
    ctx.progress(i + 1, photos.length, photos[i].name)
  }
  return result
}

/**
 * Alpha mattes by closed-form matting for the labelled photos (or the chosen ones). A missing or stale trimap
 * is made first with the dataset's trimap settings.
 */
export async function mattesJob(params: { datasetId: number; photoIds?: number[] }, ctx: JobContext<'mattes'>): Promise<MattingResult> {
  const { project, signal } = ctx
  const dataset = getDataset(project.db, params.datasetId)
  const photos = labelledPhotos(project.db, params.datasetId, params.photoIds)
  mkdirSync(project.path('mattes'), { recursive: true })
  const result: MattingResult = { made: 0, problems: [] }
  // Trimaps first (fast), so each matting item is complete on its own.
  const items: { photo: PhotoDetail; trimap: StoredTrimap }[] = []
  for (const photo of photos) {
    signal.throwIfAborted()
    try {
      if (!photo.trimap || photo.trimap.stale) await makeTrimap(project, photo, dataset.trimap)
      items.push({ photo, trimap: storedTrimap(project.db, photo.id) })
    } catch (err) {
      if (isDiskFull(err)) throw withSpaceNeeded(err, 'the trimaps could not be saved', project.dir, pngBytes(photos, 0.35))
      result.problems.push({ photo: photo.name, reason: aboutPhoto(project, photo, (err as Error).message) })
    }
  }
  const byAlpha = new Map(items.map((it) => [project.path('mattes', `${it.photo.id}.png`), it]))
  let done = photos.length - items.length // refused at the trimap already
  ctx.progress(done, photos.length)
  let diskFull: string | null = null
  await matteOnCores(
    items.map((it) => ({ image: join(project.dir, it.photo.file), trimap: join(project.dir, it.trimap.file), alphaOut: project.path('mattes', `${it.photo.id}.png`) })),
    signal,
    (outcome) => {
      const { photo, trimap } = byAlpha.get(outcome.item.alphaOut)!
      if (outcome.result) {
        recordMatte(project.db, photo.id, rel(project, outcome.item.alphaOut), trimap, photo.mask!.hash, outcome.result.seconds)
        result.made++
        if (outcome.by === 'helper') result.byHelper = (result.byHelper ?? 0) + 1
      } else if (isDiskFull(outcome.error)) diskFull = outcome.error!
      else result.problems.push({ photo: photo.name, reason: aboutPhoto(project, photo, outcome.error ?? 'unknown error') })
      ctx.progress(++done, photos.length, photo.name)
    }
  )
  if (diskFull) throw withSpaceNeeded(new Error(diskFull), 'the alpha mattes could not be saved', project.dir, pngBytes(photos, 0.25))
  return result
}

/**
 * Cutouts (RGBA PNG, the alpha matte as transparency) written to a folder, named like the photos. Colours are the
 * estimated leaf colours, which keep the background out of the leaf's rim, or the photo's own.
 */
export async function exportCutoutsJob(
  params: { datasetId: number; dir: string; photoIds?: number[]; colours: 'foreground' | 'photo' },
  ctx: JobContext<'cutouts'>
): Promise<{ written: number; dir: string; skipped: string[] }> {
  const { project, signal } = ctx
  const wanted = params.photoIds ? new Set(params.photoIds) : null
  const photos = datasetPhotos(project.db, params.datasetId).filter((p) => (!wanted || wanted.has(p.id)) && p.matte)
  if (photos.length === 0) throw new ApiError('bad_input', 'No alpha mattes to cut out: run matting first.')
  mkdirSync(params.dir, { recursive: true })
  const skipped = photos.filter((p) => p.matte!.stale).map((p) => p.name)
  let written = 0
  for (const photo of photos.filter((p) => !p.matte!.stale)) {
    signal.throwIfAborted()
    const rgb = await readRaster(join(project.dir, photo.file), 3)
    const alphaBytes = await readRaster(join(project.dir, photo.matte!.file), 1)
    const alpha = Float32Array.from(alphaBytes.data, (v) => v / 255)
    const fg = params.colours === 'foreground' ? estimateForeground(rgb.data, alpha, rgb.width, rgb.height, { signal }).foreground : undefined
    await writePng(join(params.dir, `${stemOf(photo.name)}.png`), makeCutout(rgb.data, alpha, rgb.width, rgb.height, fg))
    ctx.progress(++written, photos.length, photo.name)
  }
  return { written, dir: params.dir, skipped }
}
