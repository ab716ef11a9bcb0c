// Predictions that do not fail silently (issue 15): cutouts go through the dataset's trimap settings (or the chosen
// ones), every photo left without its cutout is a listed problem, and a prediction that fails before its first
// photo leaves no empty batch behind.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let runId: number
let datasetId: number
const wait = (job: JobInfo) => service.requireProject().jobs.wait(job.id)
const measure = { minLeafAreaPx: 5, pxPerMm: null }
const storedParams = (jobId: number) =>
  JSON.parse((service.requireProject().project.db.prepare('SELECT params FROM jobs WHERE id = ?').get(jobId) as { params: string }).params)

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const api = service.api
  await api['projects.create']({ dir: tempDir(), name: 'Cutouts' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 6, { width: 40, height: 40, seed: 4 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  datasetId = (await api['datasets.create']({ name: 'Leaves' })).id
  await wait(await api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await api['datasets.split']({ datasetId, ratio: [67, 33, 0], seed: 1 })
  const { defaults } = await api['training.presets']({})
  const { run, job } = await api['training.start']({
    datasetId,
    config: { ...defaults, preset: 'custom', inputSize: 32, baseFilters: 4, depth: 2, batchSize: 4, epochs: 1 }
  })
  assert.equal((await wait(job)).status, 'succeeded')
  runId = run.id
})
after(() => service.dispose())

test("cutouts use the dataset's trimap settings (or the chosen ones), and every missing cutout is a listed problem", async () => {
  const api = service.api
  // The dataset's settings: fixed values that erode any leaf away, so that a cutout can only come from elsewhere.
  const erodeAll = { mode: 'fixed' as const, kernelSize: 101, fgIterations: 1000, bgIterations: 1 }
  const trimapJob = await wait(await api['matting.makeTrimaps']({ datasetId, ...erodeAll }))
  assert.ok(['succeeded', 'done-with-problems'].includes(trimapJob.status))
  const request = { runId, checkpoint: 'best' as const, source: { kind: 'dataset' as const, datasetId }, threshold: 0.5, cutouts: true, measure }

  const job = await wait(await api['predictions.start'](request))
  assert.deepEqual(storedParams(job.id).trimap, erodeAll, "the job carries the dataset's trimap settings (a resume reuses them)")
  assert.ok(job.kind === 'predict' && job.result)
  const photos = await api['predictions.photos']({ batchId: job.result.batchId })
  const missing = photos.filter((p) => p.cutoutFile === null).map((p) => p.name)
  const listed = job.problems.filter((p) => p.reason.startsWith('No cutout:'))
  assert.equal(listed.length, missing.length, 'every photo without a cutout is listed, with its reason')
  assert.equal(missing.length, photos.length, 'no leaf survives 1000 erosions by 101×101')
  assert.equal(job.status, 'done-with-problems')

  // Chosen settings win over the dataset's.
  const chosen = await wait(await api['predictions.start']({ ...request, trimap: { mode: 'auto' } }))
  assert.deepEqual(storedParams(chosen.id).trimap, { mode: 'auto' })
  assert.ok(chosen.kind === 'predict' && chosen.result)
  const fitted = await api['predictions.photos']({ batchId: chosen.result.batchId })
  const fittedMissing = fitted.filter((p) => p.cutoutFile === null).length
  assert.equal(chosen.problems.filter((p) => p.reason.startsWith('No cutout:')).length, fittedMissing)
  assert.equal(chosen.status, fittedMissing > 0 ? 'done-with-problems' : 'succeeded')
})

test('a prediction that fails before its first photo leaves no batch', async () => {
  const api = service.api
  const before = (await api['predictions.list']({})).map((b) => b.id)
  const checkpoint = join(service.requireProject().project.dir, 'runs', String(runId), 'best')
  const aside = `${checkpoint}.aside`
  renameSync(checkpoint, aside)
  try {
    const job = await wait(
      await api['predictions.start']({ runId, checkpoint: 'best', source: { kind: 'dataset', datasetId }, threshold: 0.5, cutouts: false, measure })
    )
    assert.equal(job.status, 'failed')
  } finally {
    rmSync(checkpoint, { recursive: true, force: true })
    renameSync(aside, checkpoint)
  }
  const after = (await api['predictions.list']({})).map((b) => b.id)
  assert.deepEqual(after, before, 'no "0 photos" batch is left')
  const next = Math.max(0, ...before) + 1
  assert.equal(existsSync(join(service.requireProject().project.dir, 'predictions', String(next))), false)
})
