// A run that separates leaves, through the service and the job path in a real project: colour label images are
// imported with their leaves, the run trains with `instances`, its evaluation stores SBD, DiC and FBD per photo
// and sorts by SBD at every threshold step the slider offers, keeps the leaves it predicted for the inspector, and
// its predictions count leaves (one CSV row per leaf) where a binary run counts regions. Pre-labelling with it keeps
// the leaves it separated, and measuring masks with leaves counts leaves, not connected regions.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tinyConfig, touchingDiscs } from '../training/fixtures'
import { tempDir } from '../helpers/temp'
import { readInstanceFile } from '../../src/main/core/datasets/instances'
import { decodeRle } from '../../src/shared/rle'

let service: LeafsegService
let datasetId: number
let photos: string
let runId: number
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
  runId = run.id

  const job = await wait(service.api['evaluations.start']({ runId: run.id, checkpoint: 'best', source: 'val' }))
  const id = (job.result as { evaluationId: number }).evaluationId
  const result = await service.api['evaluations.get']({ id, threshold: 0.5 })
  assert.ok(result.instances, 'the evaluation has leaf measures')
  assert.equal(result.instances.photos, result.photos)
  for (const p of result.perPhoto) assert.equal(p.instances?.truth, 2, `${p.name} has its two labelled leaves`)
  const sbd = result.perPhoto.map((p) => p.instances!.sbd)
  assert.deepEqual(
    sbd,
    [...sbd].sort((a, b) => a - b),
    'worst SBD first'
  )
  assert.ok(result.instances.sbd > 0.8, `SBD ${result.instances.sbd}: ${JSON.stringify(result.perPhoto.map((p) => p.instances))}`)
  assert.ok(result.instances.absDic < 0.5, `|DiC| ${result.instances.absDic}`)
  // The slider moves the leaf measures too: they are kept at every 0.1, and a threshold reads the nearest.
  assert.equal(result.leavesThreshold, 0.5)
  assert.equal((await service.api['evaluations.get']({ id, threshold: 0.52 })).leavesThreshold, 0.5)
  const low = await service.api['evaluations.get']({ id, threshold: 0.03 })
  const high = await service.api['evaluations.get']({ id, threshold: 0.93 })
  assert.equal(low.leavesThreshold, 0.1)
  assert.equal(high.leavesThreshold, 0.9)
  assert.ok(low.instances!.fbd !== high.instances!.fbd, `FBD ${low.instances!.fbd} at 0.1 and ${high.instances!.fbd} at 0.9: the leaves follow the threshold`)
  // The predicted leaves (at 0.5) are kept for the inspector's layer, one id per leaf.
  const project = service.requireProject().project
  for (const p of result.perPhoto) {
    assert.ok(
      p.predictedLeaves && existsSync(join(project.dir, p.predictedLeaves.file)),
      `${p.name}: predicted leaves kept (${JSON.stringify(p.predictedLeaves)})`
    )
    const leaves = await readInstanceFile(join(project.dir, p.predictedLeaves.file))
    assert.equal(leaves.count, p.instances!.predicted, `${p.name}: the drawn leaves are the measured ones`)
    assert.equal(p.predictedLeaves.count, p.instances!.predicted)
  }
  // An evaluation stored before the leaves were kept per threshold (one set of measures, at 0.5) still reads.
  const [first] = result.perPhoto
  project.db
    .prepare('UPDATE evaluation_photos SET instances = ? WHERE evaluation_id = ? AND photo_id = ?')
    .run(JSON.stringify(first.instances), id, first.photoId)
  const old = (await service.api['evaluations.get']({ id, threshold: 0.9 })).perPhoto.find((p) => p.photoId === first.photoId)!
  assert.deepEqual(old.instances, first.instances)
  assert.equal(old.predictedLeaves, null)

  // Predictions count leaves, one row per leaf.
  const predicted = await wait(
    service.api['predictions.start']({
      runId: run.id,
      checkpoint: 'best',
      source: { kind: 'folder', dir: photos },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 5, pxPerMm: null }
    })
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
  // Each predicted photo keeps the leaves it was counted from, for the viewer.
  const dir = service.requireProject().project.dir
  for (const p of await service.api['predictions.photos']({ batchId })) {
    assert.ok(p.leavesFile, `${p.name}: its leaves are kept`)
    const leaves = await readInstanceFile(join(dir, p.leavesFile))
    assert.equal(leaves.count, p.leafCount, `${p.name}: the kept leaves are the counted ones`)
  }
})

test('pre-labelling with a run that separates leaves keeps its leaves for review', async () => {
  assert.ok(runId, 'the instance run trained')
  const unlabelled = (await service.api['datasets.create']({ name: 'New discs' })).id
  await wait(service.api['datasets.importPhotos']({ datasetId: unlabelled, paths: [photos] }))
  const job = await wait(service.api['labels.prelabel']({ datasetId: unlabelled, runId }))
  const result = job.kind === 'prelabel' ? job.result : null
  assert.ok(result && result.labelled > 0 && result.problems.length === 0, JSON.stringify(result))
  const list = (await service.api['datasets.photos']({ datasetId: unlabelled, offset: 0, limit: 100, filter: {}, sort: 'name' })).photos
  let two = 0
  for (const p of list) {
    const detail = await service.api['photos.get']({ id: p.id })
    assert.equal(detail.mask?.madeBy, 'model-made')
    assert.ok(detail.mask?.instancesFile, `${p.name}: its pre-labelled mask keeps the leaves the run separated`)
    const labels = await service.api['labels.mask']({ photoId: p.id })
    assert.equal(labels.leaves?.length, detail.mask.leaves, `${p.name}: the review editor gets its leaves`)
    // The leaves cover the mask exactly, as an imported label's do.
    const union = new Uint8Array(labels.mask!.size[0] * labels.mask!.size[1])
    for (const leaf of labels.leaves!) decodeRle(leaf).forEach((v, i) => v && (union[i] = 1))
    assert.deepEqual(
      Array.from(decodeRle(labels.mask!), (v) => (v ? 1 : 0)),
      Array.from(union),
      `${p.name}: leaves and mask agree`
    )
    if (detail.mask.leaves === 2) two++
  }
  assert.ok(two >= list.length * 0.5, `${two} of ${list.length} photos pre-labelled with their two leaves`)
})

test('accepting predictions of a run that separates leaves keeps their leaves with the masks', async () => {
  assert.ok(runId, 'the instance run trained')
  const datasetId = (await service.api['datasets.create']({ name: 'Accepted discs' })).id
  await wait(service.api['datasets.importPhotos']({ datasetId, paths: [photos] }))
  const predicted = await wait(
    service.api['predictions.start']({
      runId,
      checkpoint: 'best',
      source: { kind: 'dataset', datasetId },
      threshold: 0.5,
      cutouts: false,
      measure: { minLeafAreaPx: 1, pxPerMm: null }
    })
  )
  const batchId = (predicted.result as { batchId: number }).batchId
  const accepted = await service.api['predictions.accept']({ batchId })
  const batchPhotos = await service.api['predictions.photos']({ batchId })
  assert.equal(accepted.accepted, batchPhotos.length)
  for (const p of batchPhotos) {
    const labels = await service.api['labels.mask']({ photoId: p.photoId! })
    assert.equal(labels.leaves?.length, p.leafCount, `${p.name}: the accepted mask keeps the ${p.leafCount} leaves predicted`)
    const union = new Uint8Array(labels.mask!.size[0] * labels.mask!.size[1])
    for (const leaf of labels.leaves!) decodeRle(leaf).forEach((v, i) => v && (union[i] = 1))
    assert.deepEqual(
      Array.from(decodeRle(labels.mask!), (v) => (v ? 1 : 0)),
      Array.from(union),
      `${p.name}: leaves and mask agree`
    )
  }
})

test("a leaf run's checkpoint applied to a folder without the project (leafseg predict --model) counts leaves too", async () => {
  assert.ok(runId, 'the instance run trained')
  const out = tempDir()
  const csv = join(out, 'areas.csv')
  const done = await service.api['predictions.fromModel']({
    model: service.requireProject().project.path('runs', String(runId), 'best'),
    images: photos,
    out: join(out, 'masks'),
    csv,
    threshold: 0.5,
    measure: { minLeafAreaPx: 5, pxPerMm: null }
  })
  assert.equal(done.problems.length, 0, JSON.stringify(done.problems))
  const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n')
  const column = header.split(',').indexOf('leaf_count')
  assert.ok(column > 0, `the header counts leaves: ${header}`)
  const counts = rows.map((r) => Number(r.split(',')[column]))
  assert.ok(counts.filter((c) => c === 2).length >= rows.length * 0.5, `leaf counts ${counts.join(' ')}`)
  assert.ok(readFileSync(join(out, 'areas.leaves.csv'), 'utf8').startsWith('photo,leaf,'))
})

test('measuring masks that separate their leaves counts leaves, not connected regions', async () => {
  const csv = join(tempDir(), 'labelled.csv')
  await wait(service.api['measurements.labelled']({ datasetId, file: csv, measure: { minLeafAreaPx: 5, pxPerMm: null } }))
  const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n')
  const column = header.split(',').indexOf('leaf_count')
  assert.ok(column > 0, `the header counts leaves: ${header}`)
  // Each photo's two discs touch: one connected region, two leaves.
  assert.deepEqual(
    rows.map((r) => Number(r.split(',')[column])),
    rows.map(() => 2)
  )
})
