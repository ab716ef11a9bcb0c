// API area: trimaps and alpha mattes.
import { z } from 'zod'
import { join } from 'node:path'
import type { MattingApi } from '../../../shared/api/matting'
import { ApiError } from '../../../shared/errors'
import { readRaster } from '../imaging/raster'
import { getDataset, getPhoto } from '../datasets/records'
import { TrimapMaker } from '../matting/trimap'
import sharp from 'sharp'
import type { Methods, Schemas } from './area'
import { filePath, id, ids, withTrimapChoice } from './schema-parts'
import { matteFolder, trimapFolder } from '../matting/folders'
import type { ServiceContext } from './context'
import { checkOutputFolder } from '../store/output'

type K = keyof MattingApi

const photoIds = ids.optional()

export const mattingSchemas: Schemas<K> = {
  'matting.previewTrimap': withTrimapChoice({ photoId: id }),
  'matting.makeTrimaps': withTrimapChoice({ datasetId: id }),
  'matting.makeMattes': z.object({ datasetId: id, photoIds }).strict(),
  'matting.exportCutouts': z.object({ datasetId: id, dir: filePath, photoIds, colours: z.enum(['foreground', 'photo']) }).strict(),
  'matting.trimapFolder': withTrimapChoice({ masks: filePath, out: filePath }),
  'matting.matteFolder': z.object({ images: filePath, trimaps: filePath, out: filePath, cutouts: filePath.optional() }).strict()
}

export function mattingMethods(s: ServiceContext): Methods<K> {
  // The photo being previewed: its mask stays decoded and the trimap maker keeps its buffers while a slider moves.
  let preview: { photoId: number; maskHash: string; mask: Uint8Array; maker: TrimapMaker } | null = null
  const jobs = () => s.requireProject().jobs
  const db = () => s.requireProject().project.db

  return {
    async 'matting.previewTrimap'({ photoId, ...options }) {
      const { project } = s.requireProject()
      const photo = getPhoto(project.db, photoId)
      if (!photo.mask) throw new ApiError('bad_input', `${photo.name} has no mask, so it has no trimap: import its mask first.`)
      if (!preview || preview.photoId !== photoId || preview.maskHash !== photo.mask.hash) {
        preview?.maker.dispose()
        const mask = await readRaster(join(project.dir, photo.mask.file), 1)
        preview = { photoId, maskHash: photo.mask.hash, mask: mask.data, maker: new TrimapMaker(mask.width, mask.height) }
      }
      const started = performance.now()
      let made
      try {
        made = preview.maker.make(preview.mask, options)
      } catch (err) {
        throw new ApiError('bad_input', `${photo.name}: ${(err as Error).message}`)
      }
      const png = await sharp(Buffer.from(made.trimap.buffer, made.trimap.byteOffset, made.trimap.length), {
        raw: { width: photo.width, height: photo.height, channels: 1 }
      })
        .png({ compressionLevel: 1, palette: false })
        .toBuffer()
      return { dataUrl: `data:image/png;base64,${png.toString('base64')}`, ...made.stats, settings: made.settings, ms: Math.round(performance.now() - started) }
    },
    async 'matting.makeTrimaps'({ datasetId, ...settings }) {
      const dataset = getDataset(db(), datasetId)
      const how =
        settings.mode === 'auto' ? 'fitted to the leaves' : `k=${settings.kernelSize}, erode ×${settings.fgIterations}, dilate ×${settings.bgIterations}`
      return jobs().start('trimaps', `Trimaps for “${dataset.name}” (${how})`, { datasetId, settings })
    },
    async 'matting.makeMattes'({ datasetId, photoIds }) {
      const dataset = getDataset(db(), datasetId)
      const what = photoIds?.length === 1 ? getPhoto(db(), photoIds[0]).name : `“${dataset.name}”`
      return jobs().start('mattes', `Alpha mattes for ${what}`, { datasetId, photoIds })
    },
    async 'matting.exportCutouts'({ datasetId, dir, photoIds, colours }) {
      const dataset = getDataset(db(), datasetId)
      return jobs().start('cutouts', `Cutouts of “${dataset.name}”`, { datasetId, dir: checkOutputFolder(s.checkPath(dir)), photoIds, colours })
    },
    async 'matting.trimapFolder'(args) {
      const checked = { ...args, masks: s.checkPath(args.masks), out: checkOutputFolder(s.checkPath(args.out)) }
      return trimapFolder(checked, s.folderProgress('matting.trimapFolder'))
    },
    async 'matting.matteFolder'(args) {
      const cutouts = args.cutouts === undefined ? undefined : checkOutputFolder(s.checkPath(args.cutouts))
      const checked = { images: s.checkPath(args.images), trimaps: s.checkPath(args.trimaps), out: checkOutputFolder(s.checkPath(args.out)), cutouts }
      return matteFolder(checked, s.folderProgress('matting.matteFolder'))
    }
  }
}
