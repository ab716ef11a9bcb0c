import type { Command } from '../command'
import { UsageError, noteProblems, optionalNumber } from '../command'
import { withSession, type Cli } from '../session'
import type { TrimapChoice } from '../../shared/domain'
import type { MattingResult } from '../../shared/api/matting'
import { defaultTrimapChoice, seedTrimapSettings } from '../../shared/bounds'

async function datasetIn(cli: Cli, project: string, name: string) {
  await cli.open(project)
  return cli.call('datasets.findByName', { name })
}

/**
 * The trimap choice the flags ask for: --auto, --fixed (the seed's values), or any of --kernel/--fg-iter/--bg-iter
 * (fixed; the others from `remembered` when it is fixed, else the seed's); none of them: `remembered`.
 */
function settingsFrom(values: Record<string, unknown>, remembered: TrimapChoice): TrimapChoice {
  const given = { kernelSize: optionalNumber(values, 'kernel'), fgIterations: optionalNumber(values, 'fg-iter'), bgIterations: optionalNumber(values, 'bg-iter') }
  const anyNumber = Object.values(given).some((v) => v !== undefined)
  if (values.auto && (values.fixed || anyNumber)) throw new UsageError('--auto fits the trimap to the leaves: give it without --fixed, --kernel, --fg-iter or --bg-iter.')
  if (values.auto) return { mode: 'auto' }
  if (!values.fixed && !anyNumber) return remembered
  const base = remembered.mode === 'fixed' ? remembered : seedTrimapSettings
  return {
    mode: 'fixed',
    kernelSize: given.kernelSize ?? base.kernelSize,
    fgIterations: given.fgIterations ?? base.fgIterations,
    bgIterations: given.bgIterations ?? base.bgIterations
  }
}

function report(result: MattingResult, what: string, json: boolean): void {
  if (json) return
  console.log(`Made ${result.made} ${what}.`)
  for (const p of result.problems.slice(0, 20)) console.log(`  ${p.photo}: ${p.reason}`)
  if (result.problems.length > 20) console.log(`  … and ${result.problems.length - 20} more (--json lists them all)`)
}

const d = seedTrimapSettings

export const trimapCommand: Command = {
  name: 'trimap',
  summary: 'Make trimaps from masks (definite leaf, unknown edge, definite background)',
  usage: 'leafseg trimap (--project P --dataset D | --masks DIR --out DIR) [--auto | --fixed | --kernel K --fg-iter N --bg-iter N]',
  options: {
    project: { type: 'string' },
    dataset: { type: 'string' },
    masks: { type: 'string' },
    out: { type: 'string' },
    auto: { type: 'boolean' },
    fixed: { type: 'boolean' },
    kernel: { type: 'string' },
    'fg-iter': { type: 'string' },
    'bg-iter': { type: 'string' }
  },
  flags: {
    'datasets.findByName': { name: '--dataset' },
    'matting.makeTrimaps': { kernelSize: '--kernel', fgIterations: '--fg-iter', bgIterations: '--bg-iter' },
    'matting.trimapFolder': { masks: '--masks', out: '--out', kernelSize: '--kernel', fgIterations: '--fg-iter', bgIterations: '--bg-iter' }
  },
  help: [
    '--project P --dataset D   every labelled photo of a dataset (the settings are remembered for it)',
    '--masks DIR --out DIR     or plain folders: a trimap PNG for each mask PNG',
    "--auto                    fit the unknown band to each photo's leaves (3×3 kernel, iterations from the",
    "                          thinnest leaf's thickness): the default, unless the dataset remembers fixed values",
    `--fixed                   the same values for every photo: ${d.kernelSize}×${d.kernelSize} kernel, ${d.fgIterations} erosions, ${d.bgIterations} dilations`,
    '                          unless given below (these suit large photos and erase seedlings\' leaves)',
    '--kernel K                side of the square kernel (implies --fixed)',
    '--fg-iter N               erosions: definite leaf = erode(mask, K×K, N) (implies --fixed)',
    '--bg-iter N               dilations: definite background = outside dilate(mask, K×K, N) (implies --fixed)',
    'Trimap values: 0 background, 128 unknown, 255 leaf. Photos whose trimap fails are listed, and the exit code is 1.'
  ],
  async run({ values, json }) {
    if (typeof values.masks === 'string') {
      if (typeof values.out !== 'string') throw new UsageError('--masks needs --out.')
      const settings = settingsFrom(values, defaultTrimapChoice)
      const args = { masks: values.masks, out: values.out, ...settings }
      return withSession(json, async (cli) => {
        const result = await cli.withFolderProgress(() => cli.call('matting.trimapFolder', args))
        report(result, 'trimaps', json)
        const { out: _out, ...counts } = result
        noteProblems(result.problems.length)
        return { ...counts, settings, out: values.out }
      })
    }
    if (typeof values.project !== 'string' || typeof values.dataset !== 'string') throw new UsageError('Give --project and --dataset, or --masks and --out.')
    const { project, dataset: name } = values
    const given = settingsFrom(values, defaultTrimapChoice)
    return withSession(json, async (cli) => {
      cli.check('matting.makeTrimaps', { datasetId: 1, ...given })
      const dataset = await datasetIn(cli, project, name)
      const settings = settingsFrom(values, dataset.trimap)
      const job = await cli.runJob(() => cli.call('matting.makeTrimaps', { datasetId: dataset.id, ...settings }))
      report(job.result, 'trimaps', json)
      return { ...job.result, settings, job: job.id }
    })
  }
}

export const matteCommand: Command = {
  name: 'matte',
  summary: 'Compute alpha mattes (closed-form matting) and optionally cutouts',
  usage: 'leafseg matte (--project P --dataset D | --images DIR --trimaps DIR --out DIR) [--cutouts DIR]',
  options: { project: { type: 'string' }, dataset: { type: 'string' }, images: { type: 'string' }, trimaps: { type: 'string' }, out: { type: 'string' }, cutouts: { type: 'string' } },
  flags: {
    'datasets.findByName': { name: '--dataset' },
    'matting.matteFolder': { images: '--images', trimaps: '--trimaps', out: '--out', cutouts: '--cutouts' },
    'matting.exportCutouts': { dir: '--cutouts' }
  },
  help: [
    '--project P --dataset D            every labelled photo of a dataset (trimaps made first where missing or stale)',
    '--images DIR --trimaps DIR --out DIR  or plain folders: photos and trimaps matched by name',
    '--cutouts DIR                      also write RGBA cutouts (alpha as transparency)'
  ],
  async run({ values, json }) {
    const cutouts = typeof values.cutouts === 'string' ? values.cutouts : undefined
    if (typeof values.images === 'string') {
      if (typeof values.trimaps !== 'string' || typeof values.out !== 'string') throw new UsageError('--images needs --trimaps and --out.')
      const args = { images: values.images, trimaps: values.trimaps, out: values.out, cutouts }
      return withSession(json, async (cli) => {
        const result = await cli.withFolderProgress(() => cli.call('matting.matteFolder', args))
        report(result, 'alpha mattes', json)
        noteProblems(result.problems.length)
        return result
      })
    }
    if (typeof values.project !== 'string' || typeof values.dataset !== 'string') throw new UsageError('Give --project and --dataset, or --images, --trimaps and --out.')
    const { project, dataset: name } = values
    return withSession(json, async (cli) => {
      // The cutouts' folder is refused before any matte is made, not after.
      if (cutouts !== undefined) cli.check('matting.exportCutouts', { datasetId: 1, dir: cutouts, colours: 'foreground' })
      const dataset = await datasetIn(cli, project, name)
      const job = await cli.runJob(() => cli.call('matting.makeMattes', { datasetId: dataset.id }))
      report(job.result, 'alpha mattes', json)
      let cutoutResult: unknown = null
      if (cutouts !== undefined) {
        cutoutResult = (await cli.runJob(() => cli.call('matting.exportCutouts', { datasetId: dataset.id, dir: cutouts, colours: 'foreground' }))).result
        if (!json) console.log(`Cutouts written to ${cutouts}.`)
      }
      return { ...job.result, cutouts: cutoutResult, job: job.id }
    })
  }
}
