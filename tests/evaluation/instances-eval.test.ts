// A run that separates leaves, through the service and the job path in a real project: colour label images are
// imported with their leaves, the run trains with `instances`, its evaluation stores SBD, DiC and FBD per photo
// and sorts by SBD, and its predictions count leaves (one CSV row per leaf) where a binary run counts regions.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tinyConfig, touchingDiscs } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let datasetId: number
let photos: string
const wait = async (job: Promise<JobInfo>) => {
  const done = await service.requireProject().jobs.wait((await job).id)
  assert.equal(done.status, 'succeeded', `${done.title}: ${done.error}`)
  return done
}

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: join(tempDir(), 'leaves'), name: 'Leaves' })
  const src = tempDir()
  const discs = await touchingDiscs(join(src, 'made'), 32, 5)
  photos = join(src, 'photos')
  const labels = join(src, 'labels')
  mkdirSync(photos)
  mkdirSync(labels)
  for (const d of discs) {
    copyFileSync(d.imagePath, join(photos, `${d.id}.png`))
    copyFileSync(join(src, 'made', `${d.id}.label.png`), join(labels, `${d.id}.png`))
  }
  datasetId = (await service.api['datasets.create']({ name: 'Discs' })).id
  await wait(service.api['datasets.importPhotos']({ datasetId, paths: [photos] }))
  await wait(service.api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: labels } }))
  await service.api['datasets.split']({ datasetId, ratio: [75, 25, 0], seed: 1 })
})
after(() => service?.dispose())

test('an instance run is evaluated with the CVPPP leaf measures, stored per photo, worst SBD first', async () => {
  const config = { ...tinyConfig(30, 5e-3), seed: 2, augment: { ...tinyConfig(1, 1).augment, rotate90: true }, instances: true }
  const { run } = await service.api['training.start']({ datasetId, name: 'leaves', config })
  const trained = await service.requireProject().jobs.wait(run.jobId!)
  assert.equal(trained.status, 'succeeded', trained.error ?? '')
  assert.equal((await service.api['runs.get']({ id: run.id })).config.instances, true)

  const job = await wait(service.api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
  const id = (job.result as { evaluationId: number }).evaluationId
  const result = await service.api['evaluations.get']({ id, threshold: 0.5 })
  assert.ok(result.instances, 'the evaluation has leaf measures')
  assert.equal(result.instances.photos, result.photos)
  for (const p of result.perPhoto) assert.equal(p.instances?.truth, 2, `${p.name} has its two labelled leaves`)
  const sbd = result.perPhoto.map((p) => p.instances!.sbd)
  assert.deepEqual(sbd, [...sbd].sort((a, b) => a - b), 'worst SBD first')
  assert.ok(result.instances.sbd > 0.8, `SBD ${result.instances.sbd}: ${JSON.stringify(result.perPhoto.map((p) => p.instances))}`)
  assert.ok(result.instances.absDic < 0.5, `|DiC| ${result.instances.absDic}`)
  // Stored: reading it again at another threshold keeps the leaf measures (taken at 0.5).
  assert.deepEqual((await service.api['evaluations.get']({ id, threshold: 0.3 })).instances, result.instances)

  // Predictions count leaves, one row per leaf.
  const predicted = await wait(
    service.api['predictions.start']({ runId: run.id, checkpoint: 'best', source: { kind: 'folder', dir: photos }, threshold: 0.5, cutouts: false, measure: { minLeafAreaPx: 5, pxPerMm: null } })
  )
  const batchId = (predicted.result as { batchId: number }).batchId
  assert.equal((await service.api['predictions.list']({})).find((b) => b.id === batchId)?.separatesLeaves, true)
  const csv = join(tempDir(), 'leaves.csv')
  const written = await service.api['predictions.exportCsv']({ batchId, file: csv })
  const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n')
  const counts = rows.map((r) => Number(r.split(',')[header.split(',').indexOf('leaf_count')]))
  // Connected regions would count every photo's touching discs as 1.
  assert.ok(counts.filter((c) => c === 2).length >= rows.length * 0.5, `leaf counts ${counts.join(' ')}`)
  const perLeaf = readFileSync(written.leavesFile, 'utf8').trim().split('\n')
  assert.ok(perLeaf[0].startsWith('photo,leaf,'))
  assert.equal(perLeaf.length - 1, written.leaves)
  assert.ok(written.leaves >= rows.length * 1.5, `${written.leaves} leaves in ${rows.length} photos`)
})
