import { readFileSync } from 'node:fs'
import type { Command } from '../command'
import { UsageError, optionalNumber, requireString } from '../command'
import { createNodeService, runJob } from '../session'
import type { LeafsegService } from '../../main/core/service/service'
import type { DatasetSummary } from '../../shared/domain'
import type { ImportMasksResult, ImportPhotosResult } from '../../main/core/datasets/jobs'
import { datasetPhotos } from '../../main/core/datasets/records'
import { stemOf } from '../../main/core/datasets/util'

async function openDataset(service: LeafsegService, project: string, name: string, create: boolean): Promise<DatasetSummary> {
  await service.api['projects.open']({ dir: project })
  const found = (await service.api['datasets.list']({})).find((d) => d.name.toLowerCase() === name.trim().toLowerCase())
  if (found) return found
  if (!create) throw new UsageError(`The project has no dataset called “${name}”.`)
  return service.api['datasets.create']({ name })
}

function listSome(title: string, items: { path: string; reason: string }[], limit = 10): void {
  if (items.length === 0) return
  console.log(`${title} (${items.length}):`)
  for (const item of items.slice(0, limit)) console.log(`  ${item.path}: ${item.reason}`)
  if (items.length > limit) console.log(`  … and ${items.length - limit} more (--json lists them all)`)
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Import photos (and their masks) into a dataset',
  usage: 'leafseg import DIR... --project P --dataset NAME [--masks DIR | --labelbox FILE | --coco FILE]',
  options: {
    project: { type: 'string' },
    dataset: { type: 'string' },
    masks: { type: 'string' },
    labelbox: { type: 'string' },
    coco: { type: 'string' },
    'mask-suffix': { type: 'string', multiple: true },
    threshold: { type: 'string' }
  },
  help: [
    'DIR...              folders (searched recursively) and photo files to import',
    '--project P         the project folder',
    '--dataset NAME      the dataset (made if missing)',
    '--masks DIR         a folder of masks, matched by file name (same stem, or stem + _mask, _fg, _label, -mask, …)',
    '--mask-suffix S     another suffix that marks a mask (repeatable)',
    '--threshold N       for gray masks: leaf where value ≥ N (default 128)',
    '--labelbox FILE     a Labelbox export (NDJSON or legacy JSON); the API key comes from LABELBOX_API_KEY',
    '--coco FILE         a COCO JSON file (polygons or RLE)',
    'Photos already in the dataset (same content) are skipped and reported; unreadable files are listed.'
  ],
  async run({ values, positionals, json }) {
    const project = requireString(values, 'project')
    const datasetName = requireString(values, 'dataset')
    const maskSources = ['masks', 'labelbox', 'coco'].filter((k) => typeof values[k] === 'string')
    if (maskSources.length > 1) throw new UsageError('Give one of --masks, --labelbox, --coco.')
    if (positionals.length === 0 && maskSources.length === 0) throw new UsageError('Give folders or files of photos to import, or a mask source.')
    const apiKey = process.env.LABELBOX_API_KEY
    if (values.labelbox && !apiKey) throw new UsageError('Set LABELBOX_API_KEY to your Labelbox API key (it is never stored).')
    const service = createNodeService('cli')
    try {
      const dataset = await openDataset(service, project, datasetName, true)
      let photos: ImportPhotosResult | null = null
      if (positionals.length > 0) {
        const job = await runJob(service, () => service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: positionals }), json)
        photos = job.result as ImportPhotosResult
        if (!json) {
          console.log(`Imported ${photos.imported} photo(s) into “${dataset.name}”.`)
          listSome('Already in the dataset (same content)', photos.duplicates.map((d) => ({ path: d.path, reason: `same as ${d.sameAs}` })))
          listSome('Not imported', photos.problems)
        }
      }
      let masks: ImportMasksResult | null = null
      if (maskSources.length === 1) {
        const threshold = optionalNumber(values, 'threshold')
        const suffixes = values['mask-suffix'] as string[] | undefined
        const source =
          values.masks !== undefined
            ? { kind: 'folder' as const, dir: String(values.masks), threshold, suffixes: suffixes ? ['_mask', '_masks', '_fg', '_label', '_labels', '-mask', ...suffixes] : undefined }
            : values.labelbox !== undefined
              ? { kind: 'labelbox' as const, file: String(values.labelbox), apiKey: apiKey! }
              : { kind: 'coco' as const, file: String(values.coco) }
        const job = await runJob(service, () => service.api['datasets.importMasks']({ datasetId: dataset.id, source }), json)
        masks = job.result as ImportMasksResult
        if (!json) {
          console.log(`Imported ${masks.masks} mask(s).`)
          listSome('Masks without a photo', masks.unmatchedMasks)
          if (masks.unmatchedPhotos.length) console.log(`Photos without a mask: ${masks.unmatchedPhotos.length}`)
          listSome('Masks refused', masks.problems)
        }
      }
      const summary = (await service.api['datasets.list']({})).find((d) => d.id === dataset.id)!
      if (!json) console.log(`Dataset “${summary.name}”: ${summary.photos} photos, ${summary.labelled} with masks.`)
      return { dataset: summary, photos, masks }
    } finally {
      service.dispose()
    }
  }
}

function readList(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  } catch (err) {
    throw new UsageError(`Cannot read the list ${file}: ${(err as Error).message}`)
  }
}

export const splitCommand: Command = {
  name: 'split',
  summary: 'Assign train/validation/test splits',
  usage: 'leafseg split --project P --dataset NAME (--ratio 80/20/0 [--seed N] | --val-list FILE [--test-list FILE])',
  options: { project: { type: 'string' }, dataset: { type: 'string' }, ratio: { type: 'string' }, seed: { type: 'string' }, 'val-list': { type: 'string' }, 'test-list': { type: 'string' } },
  help: [
    '--ratio A/B/C      train/validation/test proportions, e.g. 80/20/0, assigned at random',
    '--seed N           the random seed (default 42): the same seed gives the same split',
    '--val-list FILE    photos for validation, one name (stem) per line; the others are training',
    '--test-list FILE   photos for testing, one name (stem) per line'
  ],
  async run({ values, json }) {
    const service = createNodeService('cli')
    try {
      const dataset = await openDataset(service, requireString(values, 'project'), requireString(values, 'dataset'), false)
      let result: DatasetSummary
      if (typeof values.ratio === 'string') {
        const parts = values.ratio.split('/').map(Number)
        if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) throw new UsageError(`--ratio must look like 80/20/0, not “${values.ratio}”.`)
        result = await service.api['datasets.split']({ datasetId: dataset.id, ratio: parts as [number, number, number], seed: optionalNumber(values, 'seed') ?? 42 })
      } else if (typeof values['val-list'] === 'string') {
        const { project } = service.requireProject()
        const photos = datasetPhotos(project.db, dataset.id)
        const byStem = new Map(photos.map((p) => [stemOf(p.name), p.id]))
        const lists = { val: readList(values['val-list']), test: typeof values['test-list'] === 'string' ? readList(values['test-list']) : [] }
        const missing = [...lists.val, ...lists.test].filter((n) => !byStem.has(stemOf(n)) && !byStem.has(n))
        if (missing.length) throw new UsageError(`These names are not photos of “${dataset.name}”: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`)
        const idsOf = (names: string[]) => names.map((n) => byStem.get(stemOf(n)) ?? byStem.get(n)!)
        const val = new Set(idsOf(lists.val))
        const test = new Set(idsOf(lists.test))
        const train = photos.map((p) => p.id).filter((i) => !val.has(i) && !test.has(i))
        if (train.length) await service.api['datasets.split']({ datasetId: dataset.id, photoIds: train, split: 'train' })
        if (val.size) await service.api['datasets.split']({ datasetId: dataset.id, photoIds: [...val], split: 'val' })
        result = test.size ? await service.api['datasets.split']({ datasetId: dataset.id, photoIds: [...test], split: 'test' }) : (await service.api['datasets.list']({})).find((d) => d.id === dataset.id)!
      } else throw new UsageError('Give --ratio or --val-list.')
      if (!json) console.log(`“${result.name}”: ${result.splits.train} train, ${result.splits.val} validation, ${result.splits.test} test, ${result.splits.none} unassigned.`)
      return { dataset: result }
    } finally {
      service.dispose()
    }
  }
}
