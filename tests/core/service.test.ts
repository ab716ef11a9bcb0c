import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { apiMethods } from '../../src/main/core/service/schemas'
import { inProcessJobs } from '../../src/node-host/job-process'
import { tempDir } from '../helpers/temp'

function service(typedPathsAreChoices: boolean, pickFolder?: () => Promise<string | null>) {
  return new LeafsegService({ host: 'electron', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices, pickFolder, demoJob: true })
}

test('every API method is implemented by the service', () => {
  const s = service(true)
  for (const m of apiMethods) assert.equal(typeof s.api[m], 'function', m)
  assert.deepEqual(Object.keys(s.api).sort(), [...apiMethods].sort())
})

test('arguments are validated at the boundary with a typed error', async () => {
  const s = service(true)
  const bad = await dispatch(s, 'projects.create', { dir: '', name: 'x', extra: 1 })
  assert.equal(bad.ok, false)
  assert.equal(!bad.ok && bad.error.code, 'invalid_argument')
  const wrongType = await dispatch(s, 'jobs.cancel', { id: 'one' })
  assert.equal(!wrongType.ok && wrongType.error.code, 'invalid_argument')
  const unknown = await dispatch(s, 'constructor', {})
  assert.equal(!unknown.ok && unknown.error.code, 'not_found')
  const noProject = await dispatch(s, 'jobs.startDemo', { steps: 1, stepMs: 1 })
  assert.equal(!noProject.ok && noProject.error.code, 'no_project_open')
})

test('an argument error names the field and the bound it broke', async () => {
  const s = service(true)
  const tooMany = Array.from({ length: 100_001 }, (_, i) => i + 1)
  const split = await dispatch(s, 'datasets.split', { datasetId: 1, photoIds: tooMany, split: 'val' })
  assert.deepEqual(!split.ok && split.error, { code: 'invalid_argument', message: 'datasets.split: photoIds: at most 100000 items' })
  const ratio = await dispatch(s, 'datasets.split', { datasetId: 1, ratio: [200, 0, 0], seed: 1 })
  assert.equal(!ratio.ok && ratio.error.message, 'datasets.split: ratio.0: at most 100; ratio: must add up to 100 (200/0/0 adds up to 200)')
  const kernel = await dispatch(s, 'matting.makeTrimaps', { datasetId: 1, mode: 'fixed', kernelSize: 0, fgIterations: 5, bgIterations: 5 })
  assert.equal(!kernel.ok && kernel.error.message, 'matting.makeTrimaps: kernelSize: at least 1')
  const extra = await dispatch(s, 'jobs.cancel', { id: 1, force: true })
  assert.equal(!extra.ok && extra.error.message, 'jobs.cancel: argument: unknown field force')
})

test('the test job is offered only where the host asks for it (development and tests)', async () => {
  const s = new LeafsegService({ host: 'electron', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await s.api['projects.create']({ dir: join(tempDir(), 'p'), name: 'P' })
  assert.equal((await s.api['app.info']({})).demoJob, false)
  const refused = await dispatch(s, 'jobs.startDemo', { steps: 1, stepMs: 1 })
  assert.equal(!refused.ok && refused.error.code, 'not_found')
  assert.deepEqual(await s.api['jobs.list']({}), [])
  s.dispose()
})

test('in the desktop app a project folder must come from the dialog or the recent list', async () => {
  const chosen = join(tempDir(), 'chosen')
  const s = service(false, async () => chosen)
  const refused = await dispatch(s, 'projects.create', { dir: join(tempDir(), 'typed'), name: 'Typed' })
  assert.equal(!refused.ok && refused.error.code, 'forbidden')
  const picked = await dispatch(s, 'dialog.pickFolder', { title: 'Pick' })
  assert.deepEqual(picked, { ok: true, value: { path: chosen } })
  const created = await dispatch(s, 'projects.create', { dir: chosen, name: 'Chosen' })
  assert.equal(created.ok, true)
  await dispatch(s, 'projects.close', {})
  // A fresh session (no dialog yet) may still reopen it from the recent list.
  const opened = await s.api['projects.open']({ dir: chosen })
  assert.equal(opened.name, 'Chosen')
  s.dispose()
})

test('events announce project changes and job updates', async () => {
  const s = service(true)
  const seen: string[] = []
  s.events.subscribe((event) => seen.push(event))
  await s.api['projects.create']({ dir: tempDir(), name: 'Events' })
  const job = await s.api['jobs.startDemo']({ steps: 2, stepMs: 1 })
  await s.requireProject().jobs.wait(job.id)
  assert.ok(seen.includes('project.changed'))
  assert.ok(seen.filter((e) => e === 'job.updated').length >= 2)
  s.dispose()
})
