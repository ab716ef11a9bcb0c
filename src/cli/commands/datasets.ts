import { readFileSync } from 'node:fs'
import type { Command } from '../command'
import { UsageError, optionalNumber, requireString } from '../command'
import { splitRatioProblem } from '../../shared/bounds'
import { withSession, type Cli } from '../session'
import type { DatasetSummary } from '../../shared/domain'
import type { ImportMasksResult, ImportPhotosResult, MaskImportSource } from '../../shared/api/datasets'
import { defaultMaskThreshold, defaultSplitSeed } from '../../shared/bounds'

/** The dataset the command names, made when `create` and missing. */
async function datasetNamed(cli: Cli, project: string, name: string, create: boolean): Promise<DatasetSummary> {
  await cli.open(project)
  try {
    return await cli.call('datasets.findByName', { name })
  } catch (err) {
    if (!create || (err as { code?: string }).code !== 'not_found') throw err
    return cli.call('datasets.create', { name })
  }
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
  flags: {
    'datasets.create': { name: '--dataset' },
    'datasets.findByName': { name: '--dataset' },
    'datasets.importPhotos': { paths: 'DIR...' },
    'datasets.importMasks': { 'source.dir': '--masks', 'source.threshold': '--threshold', 'source.moreSuffixes': '--mask-suffix' }
  },
  help: [
    'DIR...              folders (searched recursively) and photo files to import',
    '--project P         the project folder',
    '--dataset NAME      the dataset (made if missing)',
    '--masks DIR         a folder of masks, matched by file name (same stem, or stem + _mask, _fg, _label, -mask, …)',
    '--mask-suffix S     another suffix that marks a mask, besides the usual ones (repeatable)',
    `--threshold N       for gray masks: leaf where value ≥ N (default ${defaultMaskThreshold})`,
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
    const threshold = optionalNumber(values, 'threshold')
    return withSession(json, async (cli) => {
      const moreSuffixes = values['mask-suffix'] as string[] | undefined
      const source: MaskImportSource | null =
        maskSources.length === 0
          ? null
          : values.masks !== undefined
            ? { kind: 'folder', dir: String(values.masks), threshold, moreSuffixes }
            : values.labelbox !== undefined
              ? { kind: 'labelbox', file: String(values.labelbox), apiKey: apiKey! }
              : { kind: 'coco', file: String(values.coco) }
      // A refused option stops the command before the project, the dataset or its photos are written.
      cli.check('projects.open', { dir: project })
      cli.check('datasets.create', { name: datasetName })
      if (positionals.length > 0) cli.check('datasets.importPhotos', { datasetId: 1, paths: positionals })
      if (source) cli.check('datasets.importMasks', { datasetId: 1, source })
      const dataset = await datasetNamed(cli, project, datasetName, true)
      let photos: ImportPhotosResult | null = null
      if (positionals.length > 0) {
        photos = (await cli.runJob(() => cli.call('datasets.importPhotos', { datasetId: dataset.id, paths: positionals }))).result
        if (!json) {
          console.log(`Imported ${photos.imported} photo(s) into “${dataset.name}”.`)
          listSome('Already in the dataset (same content)', photos.duplicates.map((d) => ({ path: d.path, reason: `same as ${d.sameAs}` })))
          listSome('Not imported', photos.problems)
        }
      }
      let masks: ImportMasksResult | null = null
      if (source) {
        masks = (await cli.runJob(() => cli.call('datasets.importMasks', { datasetId: dataset.id, source }))).result
        if (!json) {
          console.log(`Imported ${masks.masks} mask(s).`)
          listSome('Masks without a photo', masks.unmatchedMasks)
          if (masks.unmatchedPhotos.length) console.log(`Photos without a mask: ${masks.unmatchedPhotos.length}`)
          listSome('Masks refused', masks.problems)
        }
      }
      const summary = await cli.call('datasets.findByName', { name: dataset.name })
      if (!json) console.log(`Dataset “${summary.name}”: ${summary.photos} photos, ${summary.labelled} with masks.`)
      return { dataset: summary, photos, masks }
    })
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
  usage: 'leafseg split --project P --dataset NAME (--ratio 80/20[/0] [--seed N] | --val-list FILE [--test-list FILE])',
  options: { project: { type: 'string' }, dataset: { type: 'string' }, ratio: { type: 'string' }, seed: { type: 'string' }, 'val-list': { type: 'string' }, 'test-list': { type: 'string' } },
  flags: { 'datasets.findByName': { name: '--dataset' }, 'datasets.split': { ratio: '--ratio', seed: '--seed', val: '--val-list', test: '--test-list' } },
  help: [
    '--ratio A/B[/C]    train/validation[/test] proportions in percent, e.g. 80/20 (no test photos) or 70/15/15, assigned at random',
    `--seed N           the random seed (default ${defaultSplitSeed}): the same seed gives the same split`,
    '--val-list FILE    photos for validation, one name (stem) per line; the others are training',
    '--test-list FILE   photos for testing, one name (stem) per line (none may also be in --val-list)'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    const name = requireString(values, 'dataset')
    let split: { ratio: [number, number, number]; seed: number } | { val: string[]; test: string[] }
    if (typeof values.ratio === 'string') {
      const parts = values.ratio.split('/').map((p) => (p.trim() === '' ? NaN : Number(p)))
      if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p))) throw new UsageError(`--ratio must look like 80/20 or 70/15/15, not “${values.ratio}”.`)
      // Refused here, in the parts as typed (50/10), before the API would say the same of 50/10/0.
      const problem = splitRatioProblem(parts)
      if (problem) throw new UsageError(`--ratio ${problem}.`)
      if (parts.length === 2) parts.push(0) // train/validation: no test photos
      split = { ratio: parts as [number, number, number], seed: optionalNumber(values, 'seed') ?? defaultSplitSeed }
    } else if (typeof values['val-list'] === 'string') {
      split = { val: readList(values['val-list']), test: typeof values['test-list'] === 'string' ? readList(values['test-list']) : [] }
    } else throw new UsageError('Give --ratio or --val-list.')
    return withSession(json, async (cli) => {
      cli.check('datasets.split', { datasetId: 1, ...split })
      const dataset = await datasetNamed(cli, project, name, false)
      const result = await cli.call('datasets.split', { datasetId: dataset.id, ...split })
      if (!json) console.log(`“${result.name}”: ${result.splits.train} train, ${result.splits.val} validation, ${result.splits.test} test, ${result.splits.none} unassigned.`)
      return { dataset: result }
    })
  }
}
