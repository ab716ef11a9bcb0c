// The run-length estimate: the 'estimate-training' job times real training steps of a configuration on a
// real backend (tfjs wasm), through the service, and can be cancelled.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { TrainingConfig } from '../../src/shared/api/training'
import { makePhotos } from './fixtures'
import { tempDir } from '../helpers/temp'

let service: LeafsegService
let datasetId: number

const config = (extra: Partial<TrainingConfig> = {}): TrainingConfig => ({
  preset: 'custom',
  inputSize: 32,
  baseFilters: 4,
  depth: 2,
  batchSize: 4,
  epochs: 10,
  learningRate: 1e-3,
  loss: 'bce',
  patience: 0,
  seed: 1,
  augment: { flips: false, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false },
  ...extra
})

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: tempDir(), name: 'Estimate' })
  const dir = tempDir()
  const samples = await makePhotos(join(dir, 'photos'), 13, { width: 40, height: 32, seed: 5 })
  mkdirSync(join(dir, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(dir, 'masks', `${s.id}.png`))
  const api = service.api
  datasetId = (await api['datasets.create']({ name: 'Leaves' })).id
  await service.requireProject().jobs.wait((await api['datasets.importPhotos']({ datasetId, paths: [join(dir, 'photos')] })).id)
  await service.requireProject().jobs.wait((await api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(dir, 'masks') } })).id)
  const { photos } = await api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: {}, sort: 'name' })
  await api['datasets.split']({ datasetId, photoIds: photos.slice(0, 9).map((p) => p.id), split: 'train' })
  await api['datasets.split']({ datasetId, photoIds: photos.slice(9).map((p) => p.id), split: 'val' })
})
after(() => service.dispose())

test('a run is estimated from training steps timed on the chosen backend, for the dataset’s photos and epochs', async () => {
  const job = await service.api['training.estimate']({ datasetId, config: config(), backend: 'wasm' })
  assert.equal(job.kind, 'estimate-training')
  const done = await service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, 'succeeded', done.error ?? '')
  assert.ok(done.kind === 'estimate-training' && done.result)
  const r = done.result
  assert.equal(r.backend, 'wasm')
  assert.ok(r.stepSeconds > 0 && r.steps >= 1 && r.steps <= 3, JSON.stringify(r))
  // 9 training photos in batches of 4: 3 steps; 4 validation photos: 1 batch at a third of a step.
  assert.ok(Math.abs(r.epochSeconds - r.stepSeconds * (3 + 1 / 3)) < 1e-9)
  assert.ok(Math.abs(r.totalSeconds - r.epochSeconds * 10) < 1e-9)
})

test('an estimate of a configuration that does not fit is refused before it starts, with the reason', async () => {
  await assert.rejects(
    service.api['training.estimate']({ datasetId, config: config({ inputSize: 256, baseFilters: 64, depth: 4, batchSize: 512 }), backend: 'wasm' }),
    /batch size/
  )
})

test('an estimate can be cancelled', async () => {
  const job = await service.api['training.estimate']({ datasetId, config: config({ inputSize: 128, baseFilters: 16, depth: 4 }), backend: 'wasm' })
  await service.api['jobs.cancel']({ id: job.id })
  assert.equal((await service.requireProject().jobs.wait(job.id)).status, 'cancelled')
})
