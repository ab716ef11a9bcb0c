// Training through the service and the 'train' job: generated photos imported into a real project,
// real SQLite, real tfjs (wasm), the job path the app uses.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, renameSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { dispatch } from '../../src/main/core/service/dispatch'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { TrainingConfig, TrainingProgress } from '../../src/shared/api/training'
import { TRAINING_PRESETS } from '../../src/shared/training-config'
import { UNET_PRESETS } from '../../src/main/core/model/unet-size'
import { setRunBackend } from '../../src/main/core/training/records'
import { loadModelMeta } from '../../src/main/core/model/model-io'
import { makePhotos } from './fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let datasetId: number
let photoIds: number[]
const events: TrainingProgress[] = []

const wait = (job: JobInfo) => service.requireProject().jobs.wait(job.id)

async function importDataset(name: string, count: number, withMasks: boolean): Promise<{ id: number; photoIds: number[] }> {
  const dir = tempDir('leafseg-train-photos-')
  const samples = await makePhotos(join(dir, 'photos'), count, { width: 48, height: 40, seed: 7 })
  const masksDir = join(dir, 'masks')
  mkdirSync(masksDir)
  for (const s of samples) renameSync(s.maskPath, join(masksDir, `${s.id}.png`))
  const dataset = await service.api['datasets.create']({ name })
  assert.equal((await wait(await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))).status, 'succeeded')
  if (withMasks) {
    const job = await wait(await service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: masksDir } }))
    assert.equal(job.status, 'succeeded', job.error ?? '')
  }
  const { photos } = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 1000, filter: {}, sort: 'name' })
  return { id: dataset.id, photoIds: photos.map((p) => p.id) }
}

async function setSplits(id: number, ids: number[], train: number, val: number): Promise<void> {
  await service.api['datasets.split']({ datasetId: id, photoIds: ids.slice(0, train), split: 'train' })
  if (val) await service.api['datasets.split']({ datasetId: id, photoIds: ids.slice(train, train + val), split: 'val' })
}

/** The small network and settings the ML core's own learning test uses. */
const tiny = (extra: Partial<TrainingConfig> = {}): TrainingConfig => ({
  preset: 'custom',
  inputSize: 32,
  baseFilters: 8,
  depth: 2,
  batchSize: 4,
  epochs: 14,
  learningRate: 3e-3,
  loss: 'bce+dice',
  patience: 0,
  seed: 3,
  augment: { flips: true, rotate90: true, rotate: false, scale: false, color: false, blur: false, noise: false },
  ...extra
})

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Training' })
  service.events.subscribe((event, payload) => {
    if (event === 'training.progress') events.push(payload as TrainingProgress)
  })
  ;({ id: datasetId, photoIds } = await importDataset('Leaves', 30, true))
  await setSplits(datasetId, photoIds, 24, 6)
})
after(() => service.dispose())

test('the presets are the ML core’s networks', async () => {
  const { presets, defaults } = await service.api['training.presets']({})
  assert.deepEqual(presets, TRAINING_PRESETS)
  for (const p of presets) {
    const { inputSize, baseFilters, depth } = p.config
    assert.deepEqual({ inputSize, baseFilters, depth }, UNET_PRESETS[p.name])
  }
  assert.equal(defaults.preset, 'fast-cpu')
})

test('a tiny run through the job reaches a validation IoU of at least 0.8, with every epoch recorded and live events', async () => {
  events.length = 0
  const { run, job } = await service.api['training.start']({ datasetId, name: 'tiny', config: tiny() })
  assert.equal(run.status, 'running')
  assert.equal(run.trainPhotos, 24)
  assert.equal(run.valPhotos, 6)
  const finished = await wait(job)
  assert.equal(finished.status, 'succeeded', finished.error ?? '')

  const detail = await service.api['runs.get']({ id: run.id })
  assert.equal(detail.status, 'completed')
  assert.equal(detail.epochs.length, 14)
  assert.deepEqual(
    detail.epochs.map((e) => e.epoch),
    Array.from({ length: 14 }, (_, i) => i + 1)
  )
  assert.ok(detail.bestValIoU! >= 0.8, `best validation IoU ${detail.bestValIoU}`)
  assert.equal(detail.bestValIoU, Math.max(...detail.epochs.map((e) => e.validation.iou)))
  assert.ok(detail.epochs.at(-1)!.train.loss < detail.epochs[0].train.loss)
  assert.equal(detail.backend, 'wasm')
  assert.match(detail.device!, /wasm/)
  const project = service.requireProject().project
  for (const model of [detail.bestModel!, detail.lastModel!]) {
    assert.ok(existsSync(join(project.dir, model, 'model.json')), model)
    assert.ok(existsSync(join(project.dir, model, 'weights.bin')), model)
  }
  assert.deepEqual([detail.bestModel, detail.lastModel], [`runs/${run.id}/best`, `runs/${run.id}/last`])

  // The snapshot: 30 photos with their hashes and splits, masks copied into the run.
  assert.equal(detail.snapshot.length, 30)
  assert.equal(detail.snapshot.filter((p) => p.split === 'val').length, 6)
  assert.ok(detail.snapshot.every((p) => /^[0-9a-f]{64}$/.test(p.photoHash) && /^[0-9a-f]{64}$/.test(p.maskHash)))
  assert.equal(readdirSync(join(project.dir, 'runs', String(run.id), 'masks')).length, 30)

  // Live events: a loss for every batch (6 per epoch) and the metrics of every epoch.
  const mine = events.filter((e) => e.runId === run.id)
  assert.equal(mine.filter((e) => e.kind === 'batch').length, 14 * 6)
  const epochEvents = mine.filter((e) => e.kind === 'epoch')
  assert.deepEqual(
    epochEvents.map((e) => e.kind === 'epoch' && e.metrics.validation.iou),
    detail.epochs.map((e) => e.validation.iou)
  )

  const listed = (await service.api['runs.list']({})).find((r) => r.id === run.id)!
  assert.equal(listed.epochsDone, 14)
  assert.equal(listed.canResume, false)
  assert.deepEqual(await service.api['training.backend']({}), {
    backend: 'wasm',
    device: detail.device,
    reason: detail.backendReason,
    renderer: null,
    measured: true
  })
})

test('a run configured to train on crops at a scale records that scale with its checkpoints, for prediction to tile at', async () => {
  const sampling = { mode: 'crops' as const, scale: 0.5 }
  const { run, job } = await service.api['training.start']({ datasetId, name: 'crops', config: tiny({ epochs: 1, sampling }) })
  const finished = await wait(job)
  assert.equal(finished.status, 'succeeded', finished.error ?? '')
  assert.deepEqual((await service.api['runs.get']({ id: run.id })).config.sampling, sampling)
  const meta = await loadModelMeta(join(service.requireProject().project.dir, 'runs', String(run.id), 'best'))
  assert.deepEqual(meta?.sampling, sampling)
})

test('a cancelled run resumes from its last checkpoint and its epochs continue', async () => {
  events.length = 0
  const { run, job } = await service.api['training.start']({ datasetId, config: tiny({ epochs: 4, seed: 5 }) })
  const cancelAfterFirstEpoch = service.events.subscribe((event, payload) => {
    const p = payload as TrainingProgress
    if (event === 'training.progress' && p.runId === run.id && p.kind === 'batch' && p.epoch === 2 && p.batch === 2)
      void service.api['jobs.cancel']({ id: job.id })
  })
  const cancelled = await wait(job)
  cancelAfterFirstEpoch()
  assert.equal(cancelled.status, 'cancelled')
  let summary = await service.api['runs.get']({ id: run.id })
  assert.equal(summary.status, 'cancelled')
  assert.equal(summary.epochsDone, 1, 'cancel stops within epoch 2; epoch 1 is kept')
  assert.ok(!events.some((e) => e.runId === run.id && e.kind === 'batch' && e.epoch === 2 && e.batch > 3), 'stopped within a batch or so')
  assert.equal(summary.canResume, true)

  const resumed = await service.api['training.resume']({ runId: run.id })
  assert.equal(resumed.run.status, 'running')
  assert.equal((await wait(resumed.job)).status, 'succeeded')
  summary = await service.api['runs.get']({ id: run.id })
  assert.equal(summary.status, 'completed')
  assert.deepEqual(
    summary.epochs.map((e) => e.epoch),
    [1, 2, 3, 4]
  )
  const resumedEpochs = events.filter((e) => e.runId === run.id && e.kind === 'epoch' && e.metrics.epoch > 1)
  assert.equal(resumedEpochs.length, 3)
  assert.ok(summary.epochs[3].train.loss < summary.epochs[0].train.loss, 'the resumed run kept learning')

  // More epochs for a finished run; asking for fewer than it has is refused.
  await assert.rejects(service.api['training.resume']({ runId: run.id }), /nothing to resume/)
  await assert.rejects(service.api['training.resume']({ runId: run.id, epochs: 3 }), /already trained 4 epochs/)
  const more = await service.api['training.resume']({ runId: run.id, epochs: 5 })
  assert.equal((await wait(more.job)).status, 'succeeded')
  assert.equal((await service.api['runs.get']({ id: run.id })).epochsDone, 5)
})

test('a run whose job was cut off reads as interrupted and resumes', async () => {
  const { run, job } = await service.api['training.start']({ datasetId, config: tiny({ epochs: 2 }) })
  assert.equal((await wait(job)).status, 'succeeded')
  // What a crash leaves behind: the run still marked running, its job marked interrupted at the next start.
  const db = service.requireProject().project.db
  db.prepare(`UPDATE runs SET status = 'running' WHERE id = ?`).run(run.id)
  db.prepare(`DELETE FROM run_epochs WHERE run_id = ? AND epoch = 2`).run(run.id)
  db.prepare(`UPDATE jobs SET status = 'interrupted' WHERE id = ?`).run(job.id)
  const interrupted = await service.api['runs.get']({ id: run.id })
  assert.equal(interrupted.status, 'interrupted')
  assert.equal(interrupted.canResume, true)
  const resumed = await service.api['training.resume']({ runId: run.id })
  assert.equal((await wait(resumed.job)).status, 'succeeded')
  // The checkpoint had epoch 2 already: it is recorded again from the checkpoint, not retrained.
  const after = await service.api['runs.get']({ id: run.id })
  assert.deepEqual(
    after.epochs.map((e) => e.epoch),
    [1, 2]
  )
  assert.equal(after.status, 'completed')
})

test('datasets that cannot train are refused with a message, before a run is made', async () => {
  const before = (await service.api['runs.list']({})).length
  const unlabelled = await importDataset('No masks', 4, false)
  await setSplits(unlabelled.id, unlabelled.photoIds, 3, 1)
  await assert.rejects(service.api['training.start']({ datasetId: unlabelled.id, config: tiny() }), { code: 'bad_input', message: /has no masks/ })

  const few = await importDataset('Few', 3, true)
  await setSplits(few.id, few.photoIds, 1, 2)
  await assert.rejects(service.api['training.start']({ datasetId: few.id, config: tiny() }), {
    code: 'bad_input',
    message: /at least 2 photos with masks in the training split.*has 1/
  })

  await setSplits(few.id, few.photoIds, 3, 0)
  await assert.rejects(service.api['training.start']({ datasetId: few.id, config: tiny() }), { code: 'bad_input', message: /validation split/ })

  // The network's shape is checked with the rest of the configuration, where every host's call is validated.
  const misshapen = await dispatch(service, 'training.start', { datasetId, config: tiny({ inputSize: 30 }) })
  assert.equal(!misshapen.ok && misshapen.error.code, 'invalid_argument')
  assert.match(!misshapen.ok ? misshapen.error.message : '', /^training\.start: config\.inputSize: The input size must be a multiple of 4/)
  assert.equal((await service.api['runs.list']({})).length, before)
})

test('a configuration too big for the backend is refused before training, with the batch size that fits', async () => {
  const seed = TRAINING_PRESETS.find((p) => p.name === 'seed')!.config
  const fit = await service.api['training.checkFit']({ config: { ...seed, batchSize: 16 } })
  assert.equal(fit.fits, false)
  assert.equal(fit.backend, 'wasm')
  assert.ok(fit.largestBatch >= 1 && fit.largestBatch < 16)
  assert.match(fit.message!, new RegExp(`batch size of ${fit.largestBatch} or less would fit`))
  await assert.rejects(service.api['training.start']({ datasetId, config: { ...seed, batchSize: 16 } }), { code: 'bad_input', message: /would fit/ })
  assert.equal((await service.api['training.checkFit']({ config: { ...seed, batchSize: fit.largestBatch } })).fits, true)
})

test('a GPU backend asked for outside the desktop app: the fit check waits for its limits; the run fails saying why', async () => {
  const fit = await service.api['training.checkFit']({ config: tiny(), backend: 'webgl' })
  assert.deepEqual(fit, { fits: true, bytes: 0, limitBytes: 0, largestBatch: 0, backend: 'webgl', message: null })
  const { run, job } = await service.api['training.start']({ datasetId, name: 'on webgl', config: tiny({ epochs: 1 }), backend: 'webgl' })
  const done = await wait(job)
  assert.equal(done.status, 'failed')
  assert.match(done.error ?? '', /The GPU worker exists only in the desktop app \(the command line and the web host have no browser of their own\)/)
  const failed = await service.api['runs.get']({ id: run.id })
  assert.equal(failed.status, 'failed')
  // Once a run has met a GPU worker, its texture limit is known to the fit check.
  setRunBackend(service.requireProject().project.db, run.id, {
    backend: 'webgl',
    device: 'GPU (WebGL2): a test GPU',
    gpu: { backend: 'webgl', renderer: 'a test GPU', software: false, maxTextureSize: 256, maxBufferBytes: null, floatRenderTargets: true }
  })
  assert.equal((await service.api['runs.get']({ id: run.id })).renderer, 'a test GPU')
  const known = await service.api['training.checkFit']({ config: tiny({ baseFilters: 4, batchSize: 4 }), backend: 'webgl' })
  assert.equal(known.fits, false)
  assert.match(known.message!, /one GPU texture \(at most 256 px a side\) holds\. A batch size of 3 or less would fit/)
  await service.api['runs.delete']({ id: run.id })
})

test('8 augmented samples of a labelled photo come back as PNGs at the input size', async () => {
  const all = { flips: true, rotate90: true, rotate: true, scale: true, color: true, blur: true, noise: true }
  const result = await service.api['training.previews']({ datasetId, inputSize: 64, augment: all, seed: 2 })
  assert.equal(result.samples.length, 8)
  const images = new Set<string>()
  for (const s of result.samples) {
    const image = await sharp(Buffer.from(s.image.replace(/^data:image\/png;base64,/, ''), 'base64')).metadata()
    assert.deepEqual([image.width, image.height], [64, 64])
    const mask = await sharp(Buffer.from(s.mask.replace(/^data:image\/png;base64,/, ''), 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true })
    assert.deepEqual([mask.info.width, mask.info.height], [64, 64])
    assert.ok([...mask.data].every((v) => v === 0 || v === 255))
    images.add(s.image)
  }
  assert.ok(images.size > 1, 'the augmentations differ')
  const again = await service.api['training.previews']({ datasetId, inputSize: 64, augment: all, seed: 2 })
  assert.deepEqual(again.samples, result.samples, 'same seed, same samples')
})

test('runs are renamed, annotated and deleted with their checkpoints', async () => {
  const runs = await service.api['runs.list']({})
  const run = runs.at(-1)!
  const renamed = await service.api['runs.update']({ id: run.id, name: 'Baseline', notes: 'first try' })
  assert.equal(renamed.name, 'Baseline')
  assert.equal(renamed.notes, 'first try')
  const dir = join(service.requireProject().project.dir, 'runs', String(run.id))
  assert.ok(existsSync(dir))
  await service.api['runs.delete']({ id: run.id })
  assert.ok(!existsSync(dir))
  await assert.rejects(service.api['runs.get']({ id: run.id }), { code: 'not_found' })
  rmSync(dir, { recursive: true, force: true })
})
