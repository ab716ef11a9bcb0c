// Training on wasm worker threads through the training loop and the 'train' job: tensors stay flat in every
// worker, the run records its workers, a cancel ends the threads, a crashed worker fails the run clearly.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { TrainingProgress } from '../../src/shared/api/training'
import { openEngine } from '../../src/main/core/model/engine-choice'
import { runningTrainingWorkers, WorkerPoolEngine } from '../../src/main/core/model/worker-pool'
import { trainUnet } from '../../src/main/core/training/train'
import { defaultWorkers } from '../../src/main/core/model/worker-pool'
import { makePhotos, tinyConfig } from './fixtures'
import { tempDir } from '../helpers/temp'

const model = { inputSize: 32, baseFilters: 4, depth: 2 }
let samples: Awaited<ReturnType<typeof makePhotos>>

before(async () => {
  samples = await makePhotos(tempDir('leafseg-workers-'), 10, { width: 40, height: 36, seed: 4 })
})

test('the tensor count in each worker stays flat across epochs', async () => {
  const opened = await openEngine('wasm', { workers: 2 })
  assert.equal(opened.info.workers, 2)
  assert.match(opened.info.device, /2 workers/)
  const pool = opened.engine as WorkerPoolEngine
  const perEpoch: number[][] = []
  try {
    await trainUnet({
      runDir: tempDir('leafseg-workers-run-'),
      train: samples.slice(0, 8),
      validation: samples.slice(8),
      model,
      batchSize: 3,
      epochs: 3,
      augment: null,
      engine: opened,
      onEpoch: () => void pool.workerMemory().then((m) => perEpoch.push(m.map((w) => w.tensors)))
    })
    perEpoch.push((await pool.workerMemory()).map((w) => w.tensors))
  } finally {
    await opened.close()
  }
  assert.equal(perEpoch.length, 4)
  for (const counts of perEpoch) assert.deepEqual(counts, perEpoch[0], `tensors per worker by epoch: ${JSON.stringify(perEpoch)}`)
  assert.equal(runningTrainingWorkers(), 0)
})

test('a worker that crashes fails the run with a clear message and keeps the last checkpoint', async () => {
  const opened = await openEngine('wasm', { workers: 2 })
  const runDir = tempDir('leafseg-workers-crash-')
  const threads = (opened.engine as unknown as { threads: Array<{ terminate(): Promise<number> }> }).threads
  try {
    await assert.rejects(
      trainUnet({
        runDir,
        train: samples.slice(0, 8),
        validation: samples.slice(8),
        model,
        batchSize: 4,
        epochs: 3,
        augment: null,
        engine: opened,
        // As if the system ended the second thread (out of memory) after the first epoch.
        onEpoch: (m) => void (m.epoch === 1 && threads[1].terminate())
      }),
      /^Error: Training worker 2 of 2 stopped \(exit code \d+\) \(at batch 1 of epoch 2\)\. The run stopped and its checkpoint of epoch 1 is kept: resume it, with fewer workers if it happens again\.$/
    )
  } finally {
    await opened.close()
  }
  assert.ok(existsSync(join(runDir, 'last', 'model.json')))
  assert.equal(runningTrainingWorkers(), 0)
})

test('through the job: the run records its workers, and a cancel mid-epoch ends the worker threads', async () => {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  try {
    await service.api['projects.create']({ dir: tempDir(), name: 'Workers' })
    const dir = tempDir('leafseg-workers-photos-')
    const photos = await makePhotos(join(dir, 'photos'), 12, { width: 40, height: 36, seed: 8 })
    mkdirSync(join(dir, 'masks'))
    for (const p of photos) renameSync(p.maskPath, join(dir, 'masks', `${p.id}.png`))
    const wait = (job: JobInfo) => service.requireProject().jobs.wait(job.id)
    const dataset = await service.api['datasets.create']({ name: 'Leaves' })
    await wait(await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))
    await wait(await service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(dir, 'masks') } }))
    const { photos: listed } = await service.api['datasets.photos']({ datasetId: dataset.id, offset: 0, limit: 100, filter: {}, sort: 'name' })
    await service.api['datasets.split']({ datasetId: dataset.id, photoIds: listed.slice(0, 10).map((p) => p.id), split: 'train' })
    await service.api['datasets.split']({ datasetId: dataset.id, photoIds: listed.slice(10).map((p) => p.id), split: 'val' })

    const { defaults } = await service.api['training.presets']({})
    assert.equal(defaults.workers, defaultWorkers(defaults.batchSize))
    const config = { ...tinyConfig(3, 3e-3), ...model, batchSize: 2 }
    const byDefault = await service.api['training.start']({ datasetId: dataset.id, config: { ...config, epochs: 1 }, backend: 'wasm' })
    assert.equal(byDefault.run.config.workers, defaultWorkers(2), 'a run started without a worker count records the default')
    assert.equal((await wait(byDefault.job)).status, 'succeeded')

    const { run, job } = await service.api['training.start']({ datasetId: dataset.id, config: { ...config, workers: 2 }, backend: 'wasm' })
    assert.equal(run.config.workers, 2)
    let sawThreads = 0
    const unsubscribe = service.events.subscribe((event, payload) => {
      const p = payload as TrainingProgress
      if (event !== 'training.progress' || p.runId !== run.id || p.kind !== 'batch' || p.batch !== 2) return
      sawThreads = runningTrainingWorkers()
      void service.api['jobs.cancel']({ id: job.id })
    })
    const cancelled = await wait(job)
    unsubscribe()
    assert.equal(cancelled.status, 'cancelled')
    assert.equal(sawThreads, 2, 'two worker threads trained')
    assert.equal(runningTrainingWorkers(), 0, 'the cancel ended them')
    const detail = await service.api['runs.get']({ id: run.id })
    assert.equal(detail.device, 'CPU (wasm, 2 workers)')
  } finally {
    service.dispose()
  }
})
