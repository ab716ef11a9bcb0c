// The built job process (out/main/job-process.js) as Electron runs it, a utility process talking through
// process.parentPort, here under plain Node: the core's job runner drives real jobs through it with the
// job protocol (import, trimaps, mattes with the built matting helper, a tiny training run).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LeafsegService } from '../../src/main/core/service/service'
import type { FromJobProcess, JobProcess, ToJobProcess } from '../../src/main/core/jobs/protocol'
import type { JobInfo } from '../../src/shared/api/jobs'
import { NodeUtilityProcess } from './utility-process'
import { mainDir, requireBuilt } from './bundles'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'

const sent: ToJobProcess[] = []
const received: FromJobProcess[] = []
const processes: NodeUtilityProcess[] = []

/** The main process's side of electronJobProcess (src/main/job-process.ts), with Node playing the utility process. */
function builtJobProcess(): JobProcess {
  const child = new NodeUtilityProcess(join(mainDir, 'job-process.js'))
  processes.push(child)
  return {
    send: (m) => {
      sent.push(m)
      child.postMessage(m)
    },
    onMessage: (l) =>
      child.on('message', (m: FromJobProcess) => {
        received.push(m)
        l(m)
      }),
    onExit: (l) => child.once('exit', (code: number) => l(`the job process exited (code ${code})`)),
    kill: () => child.kill()
  }
}

let service: LeafsegService
let projectDir: string
const wait = async (job: JobInfo): Promise<JobInfo> => {
  const done = await service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, 'succeeded', `${job.kind}: ${done.error ?? done.status}`)
  return done
}

before(async () => {
  requireBuilt()
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: builtJobProcess, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'project')
  await service.api['projects.create']({ dir: projectDir, name: 'Job process' })
})

after(() => {
  service.dispose()
  for (const p of processes) p.kill()
})

test('import, trimaps, mattes and a one-epoch training run succeed in the built job process', async () => {
  const source = tempDir()
  const samples = await makePhotos(join(source, 'photos'), 8, { width: 32, height: 32, seed: 11 })
  mkdirSync(join(source, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(source, 'masks', `${s.id}.png`))

  const { id: datasetId } = await service.api['datasets.create']({ name: 'Leaves' })
  await wait(await service.api['datasets.importPhotos']({ datasetId, paths: [join(source, 'photos')] }))
  await wait(await service.api['datasets.importMasks']({ datasetId, source: { kind: 'folder', dir: join(source, 'masks') } }))
  await wait(await service.api['matting.makeTrimaps']({ datasetId, mode: 'fixed', kernelSize: 3, fgIterations: 1, bgIterations: 1 }))
  const mattes = await wait(await service.api['matting.makeMattes']({ datasetId, photoIds: undefined }))

  const { photos } = await service.api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: {}, sort: 'name' })
  await service.api['datasets.split']({ datasetId, photoIds: photos.slice(0, 6).map((p) => p.id), split: 'train' })
  await service.api['datasets.split']({ datasetId, photoIds: photos.slice(6).map((p) => p.id), split: 'val' })
  const { run, job } = await service.api['training.start']({
    datasetId,
    name: 'one epoch',
    config: {
      preset: 'custom',
      inputSize: 32,
      baseFilters: 4,
      depth: 2,
      batchSize: 4,
      epochs: 1,
      learningRate: 3e-3,
      loss: 'bce+dice',
      patience: 0,
      seed: 1,
      augment: { flips: false, rotate90: false, rotate: false, scale: false, color: false, blur: false, noise: false },
      // On the bundle's training worker threads (engine-worker.js beside job-process.js).
      workers: 2
    }
  })
  await wait(job)
  assert.equal((await service.api['runs.get']({ id: run.id })).device, 'CPU (wasm, 2 workers)')

  // One long-lived process ran every job, through the protocol: a run message per job, an end per run.
  assert.equal(processes.length, 1)
  const runs = sent.filter((m) => m.type === 'run')
  assert.deepEqual(
    runs.map((m) => m.kind),
    ['import-photos', 'import-masks', 'trimaps', 'mattes', 'train']
  )
  assert.ok(runs.every((m) => m.projectDir === projectDir))
  for (const m of runs) assert.equal(received.filter((r) => r.jobId === m.jobId && r.type === 'succeeded').length, 1, m.kind)
  assert.ok(received.some((r) => r.type === 'progress' && r.jobId === runs[0].jobId))
  assert.ok(received.some((r) => r.type === 'event' && r.name === 'training.progress'))

  // On a machine with a second core, the built matting helper (matte-process.js) matted some photos.
  assert.ok(mattes.result && typeof mattes.result === 'object')
  if ((await import('node:os')).cpus().length > 1) assert.ok(((mattes.result as { byHelper?: number }).byHelper ?? 0) > 0, JSON.stringify(mattes.result))

  // What the jobs wrote is in the project's database, read here with a connection of its own.
  const db = new Database(join(projectDir, 'leafseg.sqlite'), { readonly: true })
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    assert.equal(count('SELECT count(*) AS n FROM photos'), 8)
    assert.equal(count('SELECT count(*) AS n FROM masks'), 8)
    assert.equal(count('SELECT count(*) AS n FROM trimaps'), 8)
    assert.equal(count('SELECT count(*) AS n FROM mattes'), 8)
    assert.equal(count(`SELECT count(*) AS n FROM runs WHERE id = ${run.id} AND status = 'completed'`), 1)
    assert.equal(count(`SELECT count(*) AS n FROM run_epochs WHERE run_id = ${run.id}`), 1)
    assert.equal(count(`SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'`), 5)
  } finally {
    db.close()
  }
})

test('a job of a kind the job process does not know fails with a message, and the process lives on', async () => {
  // A process of its own: the service's runner owns the first one and refuses replies about jobs it did not start.
  const child = new NodeUtilityProcess(join(mainDir, 'job-process.js'))
  processes.push(child)
  let timer: NodeJS.Timeout | undefined
  const reply = new Promise<FromJobProcess>((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code: number) => reject(new Error(`the job process exited (code ${code})`)))
    timer = setTimeout(() => reject(new Error('no reply from the job process in 10 s')), 10_000)
  })
  // Not a kind the contract knows: what an out-of-date host could send.
  child.postMessage({ type: 'run', jobId: 9999, kind: 'no-such-kind', params: {}, secrets: {}, projectDir } as unknown as ToJobProcess)
  const m = await reply.finally(() => clearTimeout(timer))
  assert.equal(m.type, 'failed')
  assert.match(m.type === 'failed' ? m.error.message : '', /no-such-kind/)
  assert.equal(child.child.exitCode, null)
})
