import { readdirSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from '../command'
import { UsageError, optionalNumber } from '../command'
import { createNodeService, progressBar, runJob } from '../session'
import type { LeafsegService } from '../../main/core/service/service'
import type { TrimapSettings } from '../../shared/domain'
import type { MattingResult } from '../../main/core/matting/jobs'
import { matteBatch, writeTrimapForMask, type MatteItem } from '../../main/core/matting'
import { matchMasksToPhotos } from '../../main/core/datasets/match'
import { stemOf } from '../../main/core/datasets/util'

async function datasetIn(service: LeafsegService, project: string, name: string) {
  await service.api['projects.open']({ dir: project })
  const dataset = (await service.api['datasets.list']({})).find((d) => d.name.toLowerCase() === name.trim().toLowerCase())
  if (!dataset) throw new UsageError(`The project has no dataset called “${name}”.`)
  return dataset
}

function settingsFrom(values: Record<string, unknown>, defaults: TrimapSettings): TrimapSettings {
  return {
    kernelSize: optionalNumber(values, 'kernel') ?? defaults.kernelSize,
    fgIterations: optionalNumber(values, 'fg-iter') ?? defaults.fgIterations,
    bgIterations: optionalNumber(values, 'bg-iter') ?? defaults.bgIterations
  }
}

const imageFiles = (dir: string) => readdirSync(dir).filter((f) => /\.(png|jpe?g|tiff?|bmp|webp)$/i.test(f)).map((f) => join(dir, f))

function report(result: MattingResult, what: string, json: boolean): void {
  if (json) return
  console.log(`Made ${result.made} ${what}.`)
  for (const p of result.problems.slice(0, 20)) console.log(`  ${p.photo}: ${p.reason}`)
  if (result.problems.length > 20) console.log(`  … and ${result.problems.length - 20} more (--json lists them all)`)
}

export const trimapCommand: Command = {
  name: 'trimap',
  summary: 'Make trimaps from masks (definite leaf, unknown edge, definite background)',
  usage: 'leafseg trimap (--project P --dataset D | --masks DIR --out DIR) [--kernel 5 --fg-iter 5 --bg-iter 5]',
  options: { project: { type: 'string' }, dataset: { type: 'string' }, masks: { type: 'string' }, out: { type: 'string' }, kernel: { type: 'string' }, 'fg-iter': { type: 'string' }, 'bg-iter': { type: 'string' } },
  help: [
    '--project P --dataset D   every labelled photo of a dataset (the settings are remembered for it)',
    '--masks DIR --out DIR     or plain folders: a trimap PNG for each mask PNG',
    '--kernel K                side of the square kernel (default 5)',
    '--fg-iter N               erosions: definite leaf = erode(mask, K×K, N) (default 5)',
    '--bg-iter N               dilations: definite background = outside dilate(mask, K×K, N) (default 5)',
    'Trimap values: 0 background, 128 unknown, 255 leaf.'
  ],
  async run({ values, json }) {
    if (typeof values.masks === 'string') {
      if (typeof values.out !== 'string') throw new UsageError('--masks needs --out.')
      const settings = settingsFrom(values, { kernelSize: 5, fgIterations: 5, bgIterations: 5 })
      mkdirSync(values.out, { recursive: true })
      const masks = imageFiles(values.masks)
      if (masks.length === 0) throw new UsageError(`No mask images in ${values.masks}.`)
      const bar = progressBar(json)
      const result: MattingResult = { made: 0, problems: [] }
      for (const [i, mask] of masks.entries()) {
        try {
          await writeTrimapForMask(mask, join(values.out, `${stemOf(mask)}.png`), settings)
          result.made++
        } catch (err) {
          result.problems.push({ photo: mask, reason: (err as Error).message })
        }
        bar.update(i + 1, masks.length, mask)
      }
      bar.stop()
      report(result, 'trimaps', json)
      return { ...result, settings, out: values.out }
    }
    if (typeof values.project !== 'string' || typeof values.dataset !== 'string') throw new UsageError('Give --project and --dataset, or --masks and --out.')
    const service = createNodeService('cli')
    try {
      const dataset = await datasetIn(service, values.project, values.dataset)
      const settings = settingsFrom(values, dataset.trimap)
      const job = await runJob(service, () => service.api['matting.makeTrimaps']({ datasetId: dataset.id, ...settings }), json)
      report(job.result as MattingResult, 'trimaps', json)
      return { ...(job.result as MattingResult), settings, job: job.id }
    } finally {
      service.dispose()
    }
  }
}

export const matteCommand: Command = {
  name: 'matte',
  summary: 'Compute alpha mattes (closed-form matting) and optionally cutouts',
  usage: 'leafseg matte (--project P --dataset D | --images DIR --trimaps DIR --out DIR) [--cutouts DIR]',
  options: { project: { type: 'string' }, dataset: { type: 'string' }, images: { type: 'string' }, trimaps: { type: 'string' }, out: { type: 'string' }, cutouts: { type: 'string' } },
  help: [
    '--project P --dataset D            every labelled photo of a dataset (trimaps made first where missing or stale)',
    '--images DIR --trimaps DIR --out DIR  or plain folders: photos and trimaps matched by name',
    '--cutouts DIR                      also write RGBA cutouts (alpha as transparency)'
  ],
  async run({ values, json }) {
    if (typeof values.images === 'string') {
      if (typeof values.trimaps !== 'string' || typeof values.out !== 'string') throw new UsageError('--images needs --trimaps and --out.')
      mkdirSync(values.out, { recursive: true })
      if (typeof values.cutouts === 'string') mkdirSync(values.cutouts, { recursive: true })
      const match = matchMasksToPhotos(imageFiles(values.images), imageFiles(values.trimaps), { suffixes: ['_trimap', '-trimap', '_tri'] })
      if (match.pairs.length === 0) throw new UsageError(`No trimap in ${values.trimaps} matches a photo in ${values.images} by name.`)
      const items: MatteItem[] = match.pairs.map((p) => ({
        image: p.photo,
        trimap: p.mask,
        alphaOut: join(values.out as string, `${stemOf(p.photo)}.png`),
        cutoutOut: typeof values.cutouts === 'string' ? join(values.cutouts, `${stemOf(p.photo)}.png`) : undefined
      }))
      const bar = progressBar(json)
      const outcome = await matteBatch(items, { onProgress: (d, t, m) => bar.update(d, t, m ?? '') })
      bar.stop()
      const result: MattingResult = { made: outcome.done.length, problems: outcome.failed.map((f) => ({ photo: f.item.image, reason: f.message })) }
      report(result, 'alpha mattes', json)
      return { ...result, unmatchedPhotos: match.unmatchedPhotos.map((u) => u.path), out: values.out }
    }
    if (typeof values.project !== 'string' || typeof values.dataset !== 'string') throw new UsageError('Give --project and --dataset, or --images, --trimaps and --out.')
    const service = createNodeService('cli')
    try {
      const dataset = await datasetIn(service, values.project, values.dataset)
      const job = await runJob(service, () => service.api['matting.makeMattes']({ datasetId: dataset.id }), json)
      const result = job.result as MattingResult
      report(result, 'alpha mattes', json)
      let cutouts: unknown = null
      if (typeof values.cutouts === 'string') {
        const dir = values.cutouts
        cutouts = (await runJob(service, () => service.api['matting.exportCutouts']({ datasetId: dataset.id, dir, colours: 'foreground' }), json)).result
        if (!json) console.log(`Cutouts written to ${dir}.`)
      }
      return { ...result, cutouts, job: job.id }
    } finally {
      service.dispose()
    }
  }
}
