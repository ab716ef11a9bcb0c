// Prediction batches that survive: cancelled part-way, resumed without predicting a photo twice (by content hash),
// a photo that fails listed with its reason while the rest go on.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let runId: number
let folder: string
const wait = (job: JobInfo) => service.requireProject().jobs.wait(job.id)
const measure = { minLeafAreaPx: 5, pxPerMm: null }

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const api = service.api
  await api['projects.create']({ dir: tempDir(), name: 'Batches' })
  const src = tempDir()
  const samples = await makePhotos(join(src, 'photos'), 6, { width: 40, height: 40, seed: 4 })
  mkdirSync(join(src, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(src, 'masks', `${s.id}.png`))
  const datasetId = (await api['datasets.create']({ name: 'Leaves' })).id
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
  // Sixteen photos to predict, a copy of one under another name, and one broken file.
  folder = join(tempDir(), 'field photos')
  for (const s of await makePhotos(folder, 16, { width: 400, height: 300, seed: 9, format: 'jpg' })) rmSync(s.maskPath)
  copyFileSync(join(folder, 'leaf000.jpg'), join(folder, 'same as leaf000.jpg'))
  writeFileSync(join(folder, 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]))
})
after(() => service.dispose())

test('a cancelled batch resumes: done photos are skipped by hash, a broken photo is listed while the rest go on', async () => {
  const api = service.api
  const request = { runId, checkpoint: 'best' as const, source: { kind: 'folder' as const, dir: folder }, threshold: 0.5, cutouts: false, measure }
  // The first job predicts on tfjs (slower), so that the cancel surely comes before its end.
  process.env.LEAFSEG_ENGINE = 'tfjs'
  const job = await api['predictions.start'](request)
  const stopAfterThree = service.events.subscribe((event, payload) => {
    const j = payload as JobInfo
    if (event === 'job.updated' && j.id === job.id && j.done >= 3) void api['jobs.cancel']({ id: job.id })
  })
  const cancelled = await wait(job)
  stopAfterThree()
  delete process.env.LEAFSEG_ENGINE
  assert.equal(cancelled.status, 'cancelled')
  const [batch] = await api['predictions.list']({})
  assert.equal(batch.status, 'cancelled')
  assert.ok(batch.photos >= 1 && batch.photos < 16, `${batch.photos} photos before the cancel`)
  assert.equal(batch.total, 18)
  assert.equal(batch.canResume, true)
  const before = await api['predictions.photos']({ batchId: batch.id })

  const resumed = await api['predictions.resume']({ batchId: batch.id })
  await assert.rejects(api['predictions.resume']({ batchId: batch.id }), /still predicting/)
  const finished = await wait(resumed)
  assert.equal(finished.status, 'done-with-problems', finished.error ?? '') // broken.jpg
  assert.ok(finished.kind === 'predict' && finished.result)
  // The photos done before the cancel, and the copy of leaf000 if leaf000 was among them, are skipped.
  const copyDoneBefore = before.some((p) => p.name === 'leaf000.jpg') ? 1 : 0
  assert.equal(finished.result.skipped, before.length + copyDoneBefore)
  assert.equal(finished.result.photos, 16 - before.length)
  assert.deepEqual(
    finished.result.problems.map((p) => p.path),
    [join(folder, 'broken.jpg')]
  )
  assert.match(finished.result.engine, /^onnxruntime \(CPU/)

  const after = await api['predictions.photos']({ batchId: batch.id })
  assert.equal(after.length, 16, 'sixteen different photos, each predicted once')
  assert.equal(new Set(after.map((p) => p.maskFile)).size, 16)
  for (const p of before)
    assert.deepEqual(
      after.find((a) => a.id === p.id),
      p,
      `${p.name} was kept as it was`
    )
  const done = (await api['predictions.list']({})).find((b) => b.id === batch.id)!
  assert.deepEqual([done.status, done.photos, done.problems], ['succeeded', 16, 1])
  // Traits of every predicted photo and of its leaves, and both CSVs.
  const { photos: traits } = await api['predictions.traits']({ batchId: batch.id })
  assert.equal(traits.length, 16)
  for (const p of traits.filter((t) => t.leaves.length > 0)) {
    assert.equal(
      p.traits!.areaPx,
      p.leaves.reduce((sum, l) => sum + l.areaPx, 0),
      p.name
    )
    assert.ok(p.traits!.solidity! > 0 && p.traits!.solidity! <= 1)
  }
  const csv = join(tempDir(), 'traits.csv')
  const exported = await api['predictions.exportCsv']({ batchId: batch.id, file: csv })
  assert.equal(exported.leavesFile, csv.replace(/\.csv$/, '.leaves.csv'))
  assert.equal(readFileSync(exported.leavesFile, 'utf8').trim().split('\n').length, 1 + exported.leaves)
  assert.equal(
    exported.leaves,
    traits.reduce((n, p) => n + p.leaves.length, 0)
  )
  const problems = await api['predictions.problems']({ batchId: batch.id })
  assert.equal(problems.length, 1)
  assert.match(problems[0].reason, /broken\.jpg/)
  // The broken photo can be retried (replaced by a good one here): only it is predicted.
  copyFileSync(join(folder, 'leaf001.jpg'), join(folder, 'broken.jpg'))
  assert.equal(done.canResume, true)
  const retried = await wait(await api['predictions.resume']({ batchId: batch.id }))
  assert.ok(retried.kind === 'predict' && retried.result)
  assert.deepEqual([retried.result.photos, retried.result.problems.length], [0, 0], 'the fixed file is a copy of leaf001: already done')
  const complete = (await api['predictions.list']({})).find((b) => b.id === batch.id)!
  assert.deepEqual([complete.problems, complete.canResume], [0, false])
  await assert.rejects(api['predictions.resume']({ batchId: batch.id }), /nothing to resume/)
})
