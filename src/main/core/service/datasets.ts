// API area: datasets — photos, masks, splits, imports and exports.
import { z } from 'zod'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { DatasetsApi } from '../../../shared/api/datasets'
import { ApiError } from '../../../shared/errors'
import * as records from '../datasets/records'
import type { MaskJobSource } from '../../../shared/api/datasets'
import type { Methods, Schemas } from './area'
import { filePath, id, ids, pxPerMm, whole, within } from './schema-parts'
import { maskThresholdBounds, maxIdsPerCall, seedBounds, splitPercentBounds, splitRatioProblem } from '../../../shared/bounds'
import type { ServiceContext } from './context'
import { checkOutputFolder } from '../store/output'

type K = keyof DatasetsApi

const split = z.enum(['train', 'val', 'test'])
const filter = z
  .object({ labelled: z.boolean().optional(), split: z.enum(['train', 'val', 'test', 'none']).optional(), search: z.string().max(200).optional() })
  .strict()
const sort = z.enum(['name', 'date'])
const name = z.string().trim().min(1).max(200)
const percent = within(splitPercentBounds)
const ratio = z.tuple([percent, percent, percent]).check((ctx) => {
  const problem = splitRatioProblem(ctx.value)
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value })
})
const names = z.array(z.string().trim().min(1).max(1000)).max(maxIdsPerCall)

export const datasetSchemas: Schemas<K> = {
  'datasets.list': z.object({}).strict(),
  'datasets.create': z.object({ name }).strict(),
  'datasets.findByName': z.object({ name }).strict(),
  'datasets.update': z.object({ id, name: name.optional(), pxPerMm: pxPerMm.nullable().optional() }).strict(),
  'datasets.delete': z.object({ id }).strict(),
  'datasets.photos': z
    .object({ datasetId: id, offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000), filter, sort })
    .strict(),
  'datasets.problems': z.object({ datasetId: id }).strict(),
  'datasets.importPhotos': z.object({ datasetId: id, paths: z.array(filePath).min(1).max(10_000) }).strict(),
  'datasets.importMasks': z
    .object({
      datasetId: id,
      source: z.discriminatedUnion('kind', [
        z
          .object({
            kind: z.literal('folder'),
            dir: filePath,
            moreSuffixes: z.array(z.string().min(1).max(40)).max(20).optional(),
            threshold: whole(maskThresholdBounds).optional()
          })
          .strict(),
        z.object({ kind: z.literal('labelbox'), file: filePath, apiKey: z.string().min(1).max(4096) }).strict(),
        z.object({ kind: z.literal('coco'), file: filePath }).strict()
      ])
    })
    .strict(),
  'datasets.exportMasks': z.object({ datasetId: id, dir: filePath, format: z.enum(['png', 'coco']) }).strict(),
  'datasets.split': z.union([
    z.object({ datasetId: id, ratio, seed: whole(seedBounds) }).strict(),
    z.object({ datasetId: id, photoIds: ids, split: split.nullable() }).strict(),
    z.object({ datasetId: id, val: names, test: names }).strict()
  ]),
  'photos.get': z.object({ id }).strict(),
  'photos.neighbour': z.object({ id, direction: z.union([z.literal(1), z.literal(-1)]), filter, sort }).strict(),
  'files.dropped': z.object({ paths: z.array(filePath).min(1).max(10_000) }).strict()
}

export function datasetMethods(s: ServiceContext): Methods<K> {
  const db = () => s.requireProject().project.db
  const jobs = () => s.requireProject().jobs
  return {
    async 'datasets.list'() {
      return records.listDatasets(db())
    },
    async 'datasets.create'({ name }) {
      return records.createDataset(db(), name)
    },
    async 'datasets.findByName'({ name }) {
      const found = records.findDatasetByName(db(), name)
      if (!found) throw new ApiError('not_found', `The project has no dataset called “${name.trim()}”.`)
      return found
    },
    async 'datasets.update'({ id, ...changes }) {
      return records.updateDataset(db(), id, changes)
    },
    async 'datasets.delete'({ id }) {
      records.deleteDataset(db(), id)
    },
    async 'datasets.photos'({ datasetId, offset, limit, filter, sort }) {
      return records.photosPage(db(), datasetId, filter, sort, offset, limit)
    },
    async 'datasets.problems'({ datasetId }) {
      return records.listProblems(db(), datasetId)
    },
    async 'datasets.importPhotos'({ datasetId, paths }) {
      const dataset = records.getDataset(db(), datasetId)
      const checked = paths.map((p) => s.checkPath(p))
      return jobs().start('import-photos', `Import ${s.describePaths(checked)} into “${dataset.name}”`, { datasetId, paths: checked })
    },
    async 'datasets.importMasks'({ datasetId, source }) {
      const dataset = records.getDataset(db(), datasetId)
      if (source.kind === 'labelbox') {
        const stored: MaskJobSource = { kind: 'labelbox', file: s.checkPath(source.file) }
        return jobs().start('import-masks', `Labelbox masks from ${basename(source.file)} into “${dataset.name}”`, { datasetId, source: stored }, { apiKey: source.apiKey })
      }
      const stored: MaskJobSource = source.kind === 'folder' ? { ...source, dir: s.checkPath(source.dir) } : { kind: 'coco', file: s.checkPath(source.file) }
      const from = source.kind === 'folder' ? basename(source.dir) : basename(source.file)
      return jobs().start('import-masks', `Masks from ${from} into “${dataset.name}”`, { datasetId, source: stored })
    },
    async 'datasets.exportMasks'({ datasetId, dir, format }) {
      const dataset = records.getDataset(db(), datasetId)
      return jobs().start('export-masks', `Export masks of “${dataset.name}” as ${format === 'png' ? 'PNG files' : 'COCO JSON'}`, { datasetId, dir: checkOutputFolder(s.checkPath(dir)), format })
    },
    async 'datasets.split'(args) {
      records.getDataset(db(), args.datasetId)
      if ('ratio' in args) records.splitByRatio(db(), args.datasetId, args.ratio, args.seed)
      else if ('val' in args) records.splitByNames(db(), args.datasetId, args)
      else records.setSplit(db(), args.datasetId, args.photoIds, args.split)
      return records.getDataset(db(), args.datasetId)
    },
    async 'photos.get'({ id }) {
      return records.getPhoto(db(), id)
    },
    async 'photos.neighbour'({ id, direction, filter, sort }) {
      return { id: records.neighbourPhoto(db(), id, direction, filter, sort) }
    },
    async 'files.dropped'({ paths }) {
      for (const p of paths) {
        if (!existsSync(p)) throw new ApiError('not_found', `The dropped item ${p} does not exist.`)
        // In the desktop app only paths the host registered from a real drop count: a renderer naming any
        // path here would otherwise lift the folder confinement. Typed paths are choices in the web host anyway.
        if (s.options.typedPathsAreChoices) s.chosen.add(p)
        else if (!s.chosen.acceptDrop(p)) throw new ApiError('forbidden', `${p} was not dropped on Leafseg: drop it on the window or pick it with the folder dialog.`)
      }
    }
  }
}
