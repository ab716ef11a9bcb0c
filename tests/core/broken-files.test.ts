// One message for each kind of broken image file, wherever Leafseg reads it: a truncated PNG reads the same in
// import and in predict ("cut short (truncated) … copy it again"), not as libvips' "libpng read error", and a
// trimap that fails names the photo, not masks/301.png, a file of the project's the user never saw.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { initBackend } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { saveModelFiles } from '../../src/main/core/model/model-io'
import type { JobInfo } from '../../src/shared/api/jobs'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

const service = new LeafsegService({ host: 'cli', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
after(() => service.dispose())
const wait = (job: JobInfo) => service.requireProject().jobs.wait(job.id)

/** Keep the first half of a file, as an interrupted copy does. */
function cutShort(path: string): void {
  const bytes = readFileSync(path)
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)))
}

const truncatedWords = 'is cut short (truncated): the end of the image is missing; copy it again from the camera or the original'

test('a truncated photo reads the same in import and in predict; a broken mask fails its trimap naming the photo', async () => {
  const api = service.api
  const work = tempDir()
  const photos = join(work, 'photos')
  const samples = await makePhotos(photos, 3, { width: 40, height: 32, seed: 5 })
  mkdirSync(join(work, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(work, 'masks', `${s.id}.png`))
  const broken = samples[0].imagePath
  cutShort(broken)

  await api['projects.create']({ dir: join(work, 'project'), name: 'Broken files' })
  const datasetId = (await api['datasets.create']({ name: 'Leaves' })).id
  const imported = await wait(await api['datasets.importPhotos']({ datasetId, paths: [photos] }))
  const importProblems = (imported.result as { problems: { path: string; reason: string }[] }).problems
  assert.deepEqual(importProblems.map((p) => p.path), [broken])
  assert.ok(importProblems[0].reason.startsWith(`${broken} ${truncatedWords}`), importProblems[0].reason)

  // Predict the same folder with a model folder: the same words for the same file.
  await initBackend({ force: 'wasm' })
  const model = join(work, 'model')
  mkdirSync(model)
  const unet = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 3)
  await saveModelFiles(unet, model, { inputSize: 32, baseFilters: 4, depth: 2, sampling: { mode: 'crops', scale: 1 }, loss: 'bce', epoch: 1, validationIoU: 0.5 })
  unet.dispose()
  const predicted = await api['predictions.fromModel']({ model, images: photos, out: join(work, 'out'), threshold: 0.5, measure: { minLeafAreaPx: 5, pxPerMm: null } })
  assert.deepEqual(predicted.problems.map((p) => p.path), [broken])
  assert.ok(predicted.problems[0].reason.startsWith(`${broken} ${truncatedWords}`), predicted.problems[0].reason)
  assert.doesNotMatch(predicted.problems[0].reason, /^Cannot read|^vips/)

  // A mask in the project cut short (a disk fault): its trimap fails, and the problem names the photo.
  await wait(await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(work, 'masks') } }))
  const [photo] = (await api['datasets.photos']({ datasetId, offset: 0, limit: 1, filter: { labelled: true }, sort: 'name' })).photos
  const detail = await api['photos.get']({ id: photo.id })
  cutShort(join(work, 'project', detail.mask!.file))
  const trimaps = await wait(await api['matting.makeTrimaps']({ datasetId, mode: 'auto' }))
  const trimapProblems = (trimaps.result as { problems: { photo: string; reason: string }[] }).problems
  assert.deepEqual(trimapProblems.map((p) => p.photo), [photo.name])
  assert.ok(trimapProblems[0].reason.startsWith(`The mask of ${photo.name} ${truncatedWords}`), trimapProblems[0].reason)
  assert.ok(!trimapProblems[0].reason.includes(detail.mask!.file), `“${trimapProblems[0].reason}” names the project's file ${detail.mask!.file}`)
})
