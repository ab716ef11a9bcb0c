// The labelling loop on a real project: a tiny U-Net trained on generated photos pre-labels the photos without
// masks (a job), the review queue lists them most uncertain first, a confirmed or corrected mask leaves it, the
// model assist starts from the run's prediction, and a run fine-tuned from the first starts from its weights.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { decodeRle, encodeRle } from '../../src/shared/rle'
import { readProbabilityPng } from '../../src/main/core/model/mask'
import { uncertainty } from '../../src/main/core/labelling/jobs'
import { makePhotos, tinyConfig } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let projectDir: string
let datasetId: number
let runId: number
const wait = async (job: Promise<JobInfo>) => {
  const done = await service.requireProject().jobs.wait((await job).id)
  assert.equal(done.status, 'succeeded', `${done.title}: ${done.error}`)
  return done
}

const tiny = tinyConfig

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'loop')
  await service.api['projects.create']({ dir: projectDir, name: 'Loop' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 14, { width: 48, height: 40, seed: 11 })
  mkdirSync(join(src, 'masks'))
  // 10 photos keep their masks (training); 4 have none (to pre-label)
  for (const s of samples.slice(0, 10)) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  for (const s of samples.slice(10)) rmSync(s.maskPath)
  datasetId = (await service.api['datasets.create']({ name: 'Shapes' })).id
  await wait(service.api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(service.api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await service.api['datasets.split']({ datasetId, ratio: [70, 30, 0], seed: 1 })
  runId = (await service.api['training.start']({ datasetId, name: 'R', config: tiny(15, 1e-2) })).run.id
  await service.requireProject().jobs.wait((await service.api['runs.get']({ id: runId })).jobId!)
})
after(() => service?.dispose())

const unlabelled = async () => (await service.api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: { labelled: false }, sort: 'name' })).total

test('pre-labelling with a run makes model-made masks for the photos without one, and keeps the others', async () => {
  assert.equal(await unlabelled(), 4)
  const before = (await service.api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: { labelled: true }, sort: 'name' })).photos
  const handMade = await service.api['photos.get']({ id: before[0].id })
  const job = await wait(service.api['labels.prelabel']({ datasetId, runId }))
  assert.deepEqual(job.kind === 'prelabel' && job.result, { labelled: 4, kept: 0, problems: [] })
  assert.equal(await unlabelled(), 0)
  assert.deepEqual((await service.api['photos.get']({ id: before[0].id })).mask, handMade.mask, 'an imported mask is untouched')
})

test('the review queue lists model-made masks most uncertain first, with the run’s own uncertainty', async () => {
  const queue = await service.api['labels.reviewQueue']({ datasetId })
  assert.equal(queue.length, 4)
  assert.deepEqual(queue.map((q) => q.uncertainty), [...queue.map((q) => q.uncertainty)].sort((a, b) => b - a))
  assert.ok(queue.every((q) => q.runId === runId))
  assert.ok(queue[0].uncertainty > queue[3].uncertainty, 'the photos differ in uncertainty, so the order means something')
  for (const q of queue) {
    const photo = await service.api['photos.get']({ id: q.photoId })
    assert.equal(photo.mask?.madeBy, 'model-made')
    assert.equal(photo.mask?.modelMade, true)
  }
  // the figure is the share of the stored probabilities between 0.2 and 0.8
  const { project } = service.requireProject()
  const row = project.db.prepare('SELECT probability_file FROM masks WHERE photo_id = ?').get(queue[0].photoId) as { probability_file: string }
  const stored = await readProbabilityPng(join(projectDir, row.probability_file))
  assert.ok(Math.abs(uncertainty(stored) - queue[0].uncertainty) < 0.02)
})

test('the model assist starts from the run’s prediction; confirmed and corrected masks leave the queue', async () => {
  const queue = await service.api['labels.reviewQueue']({ datasetId })
  const [first, second] = queue
  const photo = await service.api['photos.get']({ id: first.photoId })
  const proposal = await service.api['labels.assist']({ photoId: first.photoId, runId, clicks: [] })
  assert.deepEqual(proposal.mask.size, [photo.height, photo.width])
  // a click on a pixel the proposal calls background makes it leaf
  const pixels = decodeRle(proposal.mask)
  const bg = pixels.findIndex((v) => v === 0)
  const click = { x: bg % photo.width, y: Math.floor(bg / photo.width), leaf: true }
  const clicked = decodeRle((await service.api['labels.assist']({ photoId: first.photoId, runId, clicks: [click] })).mask)
  assert.equal(clicked[bg], 255)

  await service.api['photos.confirmMask']({ id: first.photoId })
  const corrected = decodeRle((await service.api['labels.mask']({ photoId: second.photoId })).mask!)
  corrected.fill(255, 0, 20)
  const saved = await service.api['labels.saveMask']({ photoId: second.photoId, mask: encodeRle(corrected, photo.width, photo.height), how: 'drawn' })
  assert.equal(saved.mask?.madeBy, 'model-corrected')
  const left = await service.api['labels.reviewQueue']({ datasetId })
  assert.deepEqual(left.map((q) => q.photoId), queue.slice(2).map((q) => q.photoId))
  assert.equal((await service.api['photos.get']({ id: first.photoId })).mask?.madeBy, 'model-made', 'confirmed as the run made it')
})

test('the model assist on a photo whose mask was imported: the run predicts it on demand (once, kept) and the proposal starts from its mask', async () => {
  const labelled = (await service.api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: { labelled: true }, sort: 'name' })).photos
  const imported = (await Promise.all(labelled.map((p) => service.api['photos.get']({ id: p.id })))).find((p) => p.mask && !p.mask.modelMade)!
  const assistJobs = async () => (await service.api['jobs.list']({})).filter((j) => j.kind === 'assist-prediction')

  const proposal = decodeRle((await service.api['labels.assist']({ photoId: imported.id, runId, clicks: [] })).mask)
  const [job] = await assistJobs()
  assert.equal(job?.status, 'succeeded', 'the prediction was made by a job (in the job process)')
  const run = await service.api['runs.get']({ id: runId })
  const kept = join(projectDir, 'runs', String(runId), 'assist', `epoch-${run.bestEpoch}`, `${imported.hash}.probability.png`)
  assert.ok(existsSync(kept), `the prediction is kept in the run's folder: ${kept}`)

  // From the imported mask: the proposal keeps it (GrabCut moves only pixels the run is unsure of, or disagrees on).
  const mask = decodeRle((await service.api['labels.mask']({ photoId: imported.id })).mask!)
  const iou = (a: Uint8Array, b: Uint8Array) => {
    let both = 0
    let either = 0
    for (let i = 0; i < a.length; i++) {
      if (a[i] && b[i]) both++
      if (a[i] || b[i]) either++
    }
    return both / either
  }
  const runMask = (await readProbabilityPng(kept)).data.map((p) => (p >= 0.5 ? 255 : 0))
  const fromMask = iou(proposal, mask)
  assert.ok(fromMask >= 0.9 && fromMask >= iou(Uint8Array.from(runMask), mask), `IoU with the imported mask ${fromMask.toFixed(3)}`)

  // A click more: the kept prediction is used, no second job; and the imported mask is untouched.
  const bg = proposal.findIndex((v) => v === 0)
  const clicked = decodeRle((await service.api['labels.assist']({ photoId: imported.id, runId, clicks: [{ x: bg % imported.width, y: Math.floor(bg / imported.width), leaf: true }] })).mask)
  assert.equal(clicked[bg], 255)
  assert.equal((await assistJobs()).length, 1)
  assert.deepEqual((await service.api['photos.get']({ id: imported.id })).mask, imported.mask)
})

test('retrain: a run fine-tuned from R starts from R’s best weights', async () => {
  const r = await service.api['runs.get']({ id: runId })
  // with a learning rate this small the weights barely move: after an epoch they are still R's best
  const tuned = await service.api['training.start']({ datasetId, name: 'R fine-tuned', config: tiny(1, 1e-9), initFrom: runId })
  assert.match(tuned.job.title, new RegExp(`Fine-tune run ${runId}`))
  await wait(Promise.resolve(tuned.job))
  const detail = await service.api['runs.get']({ id: tuned.run.id })
  assert.equal(detail.status, 'completed')
  assert.match(detail.notes, new RegExp(`Fine-tuned from run ${runId}`))
  const scratch = await service.api['training.start']({ datasetId, name: 'scratch', config: { ...tiny(1, 1e-9), seed: 4 } })
  await wait(Promise.resolve(scratch.job))
  const fresh = await service.api['runs.get']({ id: scratch.run.id })

  const { loadModelFiles } = await import('../../src/main/core/model/model-io')
  const weightsOf = async (folder: string) => {
    const model = await loadModelFiles(join(projectDir, folder))
    const values = model.getWeights().map((w) => Float32Array.from(w.dataSync()))
    model.dispose()
    return values
  }
  const maxDifference = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((w, i) => Math.max(...w.map((v, k) => Math.abs(v - b[i][k])))))
  const base = await weightsOf(r.bestModel!)
  assert.ok(maxDifference(await weightsOf(detail.bestModel!), base) < 1e-4, 'the fine-tuned run holds R’s weights')
  assert.ok(maxDifference(await weightsOf(fresh.bestModel!), base) > 1e-2, 'a run from scratch does not')

  await assert.rejects(service.api['training.start']({ datasetId, config: { ...tiny(1, 1e-3), baseFilters: 4 }, initFrom: runId }), /needs its network: input 32 px, 8 base filters, depth 2/)
  assert.ok(existsSync(join(projectDir, r.bestModel!)))
})
