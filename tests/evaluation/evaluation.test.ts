// Evaluation, comparison, prediction and measurement through the service and the job path: a real tiny
// U-Net trained on generated photos in a real project.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { TrainingConfig } from '../../src/shared/api/training'
import { measurementColumns } from '../../src/main/core/prediction/csv'
import { confusionAt } from '../../src/main/core/evaluation/metrics'
import { readProbabilityPng } from '../../src/main/core/model/mask'
import { readRaster } from '../../src/main/core/imaging/raster'
import { makePhotos, tinyConfig } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
let service: LeafsegService
let userData: string
let projectDir: string
let datasetId: number
let runA: number
let runB: number
let newPhotos: string
/** A job's end; one that may have failed items (cutouts) may end 'done-with-problems', checked by the caller. */
const wait = async (job: Promise<JobInfo>, expected: JobInfo['status'][] = ['succeeded']) => {
  const done = await service.requireProject().jobs.wait((await job).id)
  assert.ok(expected.includes(done.status), `${done.title}: ${done.status} ${done.error}`)
  return done
}

const tiny = (learningRate: number): TrainingConfig => tinyConfig(3, learningRate)

before(async () => {
  userData = tempDir()
  service = new LeafsegService({ host: 'web', userDataDir: userData, jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'eval')
  await service.api['projects.create']({ dir: projectDir, name: 'Evaluation' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 14, { width: 48, height: 40, seed: 11 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  datasetId = (await service.api['datasets.create']({ name: 'Shapes' })).id
  await wait(service.api['datasets.importPhotos']({ datasetId, paths: [join(src, 'photos')] }))
  await wait(service.api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(src, 'masks') } }))
  await service.api['datasets.split']({ datasetId, ratio: [60, 25, 15], seed: 1 })
  runA = (await service.api['training.start']({ datasetId, name: 'A', config: tiny(3e-3) })).run.id
  await service.requireProject().jobs.wait((await service.api['runs.get']({ id: runA })).jobId!)
  runB = (await service.api['training.start']({ datasetId, name: 'B', config: tiny(1e-3) })).run.id
  await service.requireProject().jobs.wait((await service.api['runs.get']({ id: runB })).jobId!)
  newPhotos = join(tempDir(), 'new photos')
  for (const s of await makePhotos(newPhotos, 3, { width: 96, height: 80, seed: 99 })) rmSync(s.maskPath)
})
after(() => service?.dispose())

test('evaluating a run on its validation photos: figures at any threshold from stored histograms, worst first', async () => {
  const job = await wait(service.api['evaluations.start']({ runId: runA, checkpoint: 'best', source: 'val' }))
  const id = (job.result as { evaluationId: number }).evaluationId
  const at = await service.api['evaluations.get']({ id, threshold: 0.5 })
  assert.ok(at.photos >= 2)
  assert.deepEqual(
    at.perPhoto.map((p) => p.scores.iou),
    [...at.perPhoto.map((p) => p.scores.iou)].sort((a, b) => a - b)
  )
  // The stored probabilities give the same counts as the stored histograms.
  const first = at.perPhoto[0]
  const probs = await readProbabilityPng(join(projectDir, first.probabilityFile))
  const truth = await readRaster(join(projectDir, first.maskFile), 1)
  const c = confusionAt(probs.data, truth, 0.5)
  assert.deepEqual([c.tp, c.fp, c.fn], [first.truePositive, first.falsePositive, first.falseNegative])
  // Threshold 0 calls every pixel leaf: recall 1, precision = the leaf share.
  const all = await service.api['evaluations.get']({ id, threshold: 0 })
  assert.equal(all.pooled.recall, 1)
  assert.ok(all.pooled.precision < 0.9)
  assert.notDeepEqual(all.pooled, at.pooled)
  assert.equal((await service.api['evaluations.list']({ runId: runA }))[0].id, id)
})

test('the test split and another dataset can be evaluated; a dataset without masks is refused', async () => {
  const job = await wait(service.api['evaluations.start']({ runId: runA, checkpoint: 'last', source: 'test' }))
  const res = await service.api['evaluations.get']({ id: (job.result as { evaluationId: number }).evaluationId, threshold: 0.5 })
  assert.match(res.datasetName, /test split/)
  const empty = await service.api['datasets.create']({ name: 'Empty' })
  await assert.rejects(service.api['evaluations.start']({ runId: runA, checkpoint: 'best', source: 'dataset', datasetId: empty.id }), /no photos with masks/)
})

test('comparing runs: settings that differ, same snapshot, per-photo IoU where evaluated', async () => {
  const cmp = await service.api['runs.compare']({ runIds: [runA, runB] })
  assert.ok(cmp.differences.includes('learningRate'))
  assert.ok(!cmp.differences.includes('inputSize'))
  assert.equal(cmp.differentSnapshots, false)
  assert.ok(cmp.evaluations[0] !== null)
  assert.equal(cmp.evaluations[1], null)
  assert.ok(cmp.perPhoto.length >= 2)
  assert.ok(cmp.perPhoto.every((p) => typeof p.iou[0] === 'number' && p.iou[1] === null))
  assert.equal(cmp.runs[1].epochs.length, 3)
})

test('predicting a folder: full-resolution masks, measurements, CSV with the documented columns', async () => {
  const job = await wait(
    service.api['predictions.start']({
      runId: runA,
      checkpoint: 'best',
      source: { kind: 'folder', dir: newPhotos },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 5, pxPerMm: 4 }
    })
  )
  const batchId = (job.result as { batchId: number }).batchId
  const photos = await service.api['predictions.photos']({ batchId })
  assert.equal(photos.length, 3)
  for (const p of photos) {
    const mask = await readRaster(join(projectDir, p.maskFile), 1)
    assert.deepEqual([mask.width, mask.height], [96, 80], 'masks at the photo’s full resolution')
    let on = 0
    for (const v of mask.data) if (v) on++
    assert.equal(p.areaPx + 0 <= on, true)
    assert.ok(Math.abs(p.foregroundFraction - p.areaPx / (96 * 80)) < 1e-9)
    if (p.areaMm2 !== null) assert.ok(Math.abs(p.areaMm2 - p.areaPx / 16) < 1e-9)
    assert.ok(existsSync(join(projectDir, p.photoFile!)), 'the photo is kept with the batch')
  }
  const csv = join(tempDir(), 'areas.csv')
  const out = await service.api['predictions.exportCsv']({ batchId, file: csv })
  assert.equal(out.rows, 3)
  const lines = readFileSync(csv, 'utf8').trim().split('\n')
  assert.equal(lines[0], measurementColumns(false).join(','))
  assert.equal(lines.length, 4)
  assert.match(lines[1], new RegExp(`,predicted,${runA},0\\.5,`)) // then the traits
  await assert.rejects(service.api['predictions.accept']({ batchId }), /Only predictions for a dataset/)
})

test('predicted masks for a dataset can become its labels, model-made until confirmed; labelled masks measure to CSV', async () => {
  const job = await wait(
    service.api['predictions.start']({
      runId: runA,
      checkpoint: 'best',
      source: { kind: 'dataset', datasetId },
      threshold: 0.5,
      cutouts: true,
      measure: { minLeafAreaPx: 1, pxPerMm: null }
    }),
    ['succeeded', 'done-with-problems']
  )
  const { batchId, problems } = job.result as { batchId: number; problems: { path: string; reason: string }[] }
  assert.equal(job.status, problems.length > 0 ? 'done-with-problems' : 'succeeded')
  const photos = await service.api['predictions.photos']({ batchId })
  assert.equal(photos.length, 14)
  // Every photo got a cutout through the matting step, or a reason why not (no definite leaf in its mask).
  assert.equal(photos.filter((p) => p.cutoutFile).length + problems.filter((p) => p.reason.startsWith('No cutout')).length, 14)
  const one = photos[0]
  // Its hand-made mask is kept: a model never overwrites a person's work.
  assert.deepEqual(await service.api['predictions.accept']({ batchId, photoIds: [one.photoId!] }), { accepted: 0, kept: [one.name] })
  service.requireProject().project.db.prepare('DELETE FROM masks WHERE photo_id = ?').run(one.photoId)
  assert.equal((await service.api['predictions.accept']({ batchId, photoIds: [one.photoId!] })).accepted, 1)
  const labelled = await service.api['photos.get']({ id: one.photoId! })
  assert.equal(labelled.mask!.source, 'predicted')
  assert.equal(labelled.mask!.modelMade, true)
  await service.api['photos.confirmMask']({ id: one.photoId! })
  assert.equal((await service.api['photos.get']({ id: one.photoId! })).mask!.modelMade, false)

  const csv = join(tempDir(), 'labelled.csv')
  const measured = await wait(service.api['measurements.labelled']({ datasetId, file: csv, measure: { minLeafAreaPx: 3, pxPerMm: null } }))
  assert.equal((measured.result as { rows: number }).rows, 14) // 13 hand-made masks and the accepted one
  assert.match(readFileSync(csv, 'utf8').split('\n')[1], /,labelled,,,/) // no run, no threshold, no traits
})

test('deleting a prediction batch removes its rows and files; an accepted mask, copied into the dataset, stays', async () => {
  const job = await wait(
    service.api['predictions.start']({
      runId: runA,
      checkpoint: 'best',
      source: { kind: 'dataset', datasetId },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 1, pxPerMm: null }
    })
  )
  const { batchId } = job.result as { batchId: number }
  const photos = await service.api['predictions.photos']({ batchId })
  const one = photos[1]
  service.requireProject().project.db.prepare('DELETE FROM masks WHERE photo_id = ?').run(one.photoId)
  assert.equal((await service.api['predictions.accept']({ batchId, photoIds: [one.photoId!] })).accepted, 1)
  const accepted = (await service.api['photos.get']({ id: one.photoId! })).mask!
  const batchDir = join(projectDir, 'predictions', String(batchId))
  assert.ok(existsSync(join(projectDir, one.maskFile)) && one.maskFile.startsWith(`predictions/${batchId}/`))
  const otherBatches = (await service.api['predictions.list']({})).filter((b) => b.id !== batchId)

  const freed = await service.api['predictions.delete']({ batchId })
  assert.ok(freed.files >= photos.length * 2 && freed.bytes > 0, JSON.stringify(freed))
  assert.ok(!existsSync(batchDir), 'the batch folder is gone')
  const db = service.requireProject().project.db
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM predicted_photos WHERE batch_id = ?').get(batchId) as { n: number }).n, 0)
  await assert.rejects(service.api['predictions.photos']({ batchId }), /There is no prediction batch/)
  assert.deepEqual(
    (await service.api['predictions.list']({})).map((b) => b.id),
    otherBatches.map((b) => b.id),
    'other batches stay'
  )
  // The accepted mask lives in masks/, with the dataset: untouched, as are the dataset's photos.
  assert.deepEqual((await service.api['photos.get']({ id: one.photoId! })).mask, accepted)
  assert.ok(existsSync(join(projectDir, accepted.file)))
  assert.ok(existsSync(join(projectDir, one.photoFile!)))
  // Nothing else in the project is unreferenced: runs, evaluations and the other batches are all in use.
  const dry = await service.api['projects.clean']({ dryRun: true })
  assert.deepEqual(dry.items, [])
})

test('leafseg eval --json prints pooled and per-photo-mean figures under the documented keys', () => {
  const out = execFileSync(process.execPath, [join(root, 'bin', 'leafseg.js'), 'eval', '--project', projectDir, '--run', String(runB), '--json'], {
    env: { ...process.env, LEAFSEG_USER_DATA: userData },
    encoding: 'utf8'
  })
  const summary = JSON.parse(out.trim().split('\n').pop()!)
  for (const part of ['pooled', 'meanPerPhoto']) {
    assert.deepEqual(Object.keys(summary[part]).sort(), ['accuracy', 'dice', 'iou', 'precision', 'recall'])
  }
  assert.equal(summary.run, runB)
})
