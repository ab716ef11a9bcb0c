import { existsSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { Command } from '../command'
import { UsageError, noteProblems, optionalNumber } from '../command'
import { withSession, type Cli } from '../session'
import { decodeRle, encodeRle } from '../../shared/rle'
import type { PhotoSummary } from '../../shared/domain'
import { ApiError } from '../../shared/errors'
import { seededRandom } from '../../shared/random'

/** Pixels of each class sampled from each mask with --from-masks (the strokes a person would paint). */
const samplesPerClass = 200
const maxFromMasks = 1000

async function allPhotos(cli: Cli, datasetId: number, filter: { labelled?: boolean } = {}): Promise<PhotoSummary[]> {
  const out: PhotoSummary[] = []
  for (;;) {
    const page = await cli.call('datasets.photos', { datasetId, offset: out.length, limit: 500, filter, sort: 'name' })
    out.push(...page.photos)
    if (page.photos.length === 0 || out.length >= page.total) return out
  }
}

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Label a dataset with a pixel classifier trained from strokes (or from masks it has)',
  usage: 'leafseg classify --project P --dataset D (--strokes FILE [--photo NAME] | --from-masks N [--seed S])',
  options: {
    project: { type: 'string' },
    dataset: { type: 'string' },
    strokes: { type: 'string' },
    photo: { type: 'string' },
    'from-masks': { type: 'string' },
    seed: { type: 'string' }
  },
  flags: {
    'datasets.findByName': { name: '--dataset' },
    'labels.importStrokes': { file: '--strokes' }
  },
  help: [
    "--strokes FILE     an image of the photo's size, one value a pixel: 0 none, 1 leaf, 2 background",
    '--photo NAME       the photo the strokes are on (default: the photo named as the file)',
    `--from-masks N     strokes sampled from N photos that have masks (${samplesPerClass} pixels of each class a photo)`,
    '--seed S           which photos and pixels --from-masks picks (default 1)',
    "The classifier (a random forest on multi-scale colour and texture filters) learns from all the dataset's",
    "strokes, then labels its photos without a person's mask: model-made masks for review, most unsure first."
  ],
  async run({ values, json }) {
    if (typeof values.project !== 'string' || typeof values.dataset !== 'string') throw new UsageError('Give --project and --dataset.')
    const { project, dataset: name } = values
    const strokes = typeof values.strokes === 'string' ? resolve(values.strokes) : undefined
    const fromMasks = optionalNumber(values, 'from-masks')
    const seed = optionalNumber(values, 'seed') ?? 1
    if ((strokes === undefined) === (fromMasks === undefined)) throw new UsageError('Give --strokes FILE or --from-masks N (one of them).')
    if (strokes !== undefined && (!existsSync(strokes) || !statSync(strokes).isFile()))
      throw new UsageError(`--strokes must be an image file of 0/1/2 (none, leaf, background); ${values.strokes} is not a file.`)
    if (fromMasks !== undefined && (!Number.isInteger(fromMasks) || fromMasks < 1 || fromMasks > maxFromMasks))
      throw new UsageError(`--from-masks must be a whole number of photos from 1 to ${maxFromMasks}, not “${String(values['from-masks'])}”.`)
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number, not “${String(values.seed)}”.`)
    if (values.photo !== undefined && strokes === undefined) throw new UsageError('--photo goes with --strokes.')
    return withSession(json, async (cli) => {
      await cli.open(project)
      const dataset = await cli.call('datasets.findByName', { name })
      // every check before anything is written
      let stroked: { id: number; name: string }[]
      if (strokes !== undefined) {
        const photoName = typeof values.photo === 'string' ? values.photo : basename(strokes)
        const photo = (await allPhotos(cli, dataset.id)).find((p) => p.name === photoName)
        if (!photo)
          throw new UsageError(
            `--photo must name a photo of “${dataset.name}”; it has none named “${photoName}”${values.photo === undefined ? " (the strokes file's name)" : ''}.`
          )
        try {
          await cli.call('labels.importStrokes', { photoId: photo.id, file: strokes })
        } catch (err) {
          // refused before anything was written
          if (err instanceof ApiError && err.code === 'bad_input')
            throw new UsageError(`--strokes must be an image of 0/1/2 of the photo's size: ${err.message}`)
          throw err
        }
        stroked = [photo]
      } else {
        const labelled = await allPhotos(cli, dataset.id, { labelled: true })
        if (labelled.length < fromMasks!)
          throw new UsageError(`--from-masks must be at most ${labelled.length}: “${dataset.name}” has ${labelled.length} photos with masks.`)
        const next = seededRandom(seed)
        const pool = [...labelled]
        stroked = []
        for (let k = 0; k < fromMasks!; k++) stroked.push(...pool.splice(Math.floor(next() * pool.length), 1))
        for (const photo of stroked) {
          const { mask } = await cli.call('labels.mask', { photoId: photo.id })
          const [height, width] = mask!.size
          const m = decodeRle(mask!)
          const values = new Uint8Array(m.length)
          for (const [cls, v] of [
            [1, 1],
            [0, 2]
          ] as const) {
            const where: number[] = []
            for (let i = 0; i < m.length; i++) if ((m[i] ? 1 : 0) === cls) where.push(i)
            for (let j = 0; j < samplesPerClass && where.length; j++) values[where[Math.floor(next() * where.length)]] = v
          }
          const rle = (v: number) =>
            encodeRle(
              values.map((x) => (x === v ? 1 : 0)),
              width,
              height
            )
          await cli.call('labels.saveStrokes', { photoId: photo.id, strokes: { leaf: rle(1), background: rle(2) } })
        }
      }
      const classifier = await cli.call('labels.trainClassifier', { datasetId: dataset.id })
      const job = await cli.runJob(() => cli.call('labels.classify', { datasetId: dataset.id }))
      if (!json) {
        console.log(
          `Trained on ${classifier.leafPixels} leaf and ${classifier.backgroundPixels} background pixels of ${classifier.photos} photos in ${classifier.trainMs} ms; labelled ${job.result.labelled} photos for review (${job.result.kept} kept a person's mask).`
        )
        for (const p of job.result.problems.slice(0, 20)) console.log(`  ${p.path}: ${p.reason}`)
      }
      noteProblems(job.result.problems.length)
      return { strokedPhotos: stroked.map((p) => p.name), classifier, ...job.result, job: job.id }
    })
  }
}
