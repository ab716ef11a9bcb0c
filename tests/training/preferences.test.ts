// What the views last used (the training form, the run chosen to label and to predict with) is kept in the project:
// closing and reopening it finds the same values; a value out of bounds is refused with the field named; a value
// that no longer fits the schema reads as null, never as an error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import { fromPreset } from '../../src/shared/training-config'
import { writePreference } from '../../src/main/core/store/preferences'
import { tempDir } from '../helpers/temp'

test('the training form and the chosen runs survive closing and reopening the project', async () => {
  const service = new LeafsegService({ host: 'cli', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const dir = join(tempDir(), 'p')
  try {
    await service.api['projects.create']({ dir, name: 'p' })
    assert.deepEqual(await service.api['training.preferences']({}), { form: null, labelRunId: null, predictRunId: null })
    const config = { ...fromPreset('seed'), epochs: 7, batchSize: 3 }
    await service.api['training.remember']({ form: { datasetId: 4, config, backend: 'wasm' } })
    await service.api['training.remember']({ predictRunId: 2 })
    // a field not given stays as it was
    const kept = await service.api['training.remember']({ labelRunId: 5 })
    assert.equal(kept.predictRunId, 2)
    await service.api['projects.close']({})
    await service.api['projects.open']({ dir })
    const again = await service.api['training.preferences']({})
    assert.deepEqual(again, { form: { datasetId: 4, config, backend: 'wasm' }, labelRunId: 5, predictRunId: 2 })

    // refused at the boundary, with the field: nothing changes
    const bad = await dispatch(service, 'training.remember', { form: { datasetId: 4, config: { ...config, epochs: 0 }, backend: 'wasm' } })
    assert.equal(bad.ok, false)
    assert.match(!bad.ok ? bad.error.message : '', /form\.config\.epochs: at least 1/)
    const badRun = await dispatch(service, 'training.remember', { predictRunId: -1 })
    assert.equal(badRun.ok, false)
    assert.deepEqual(await service.api['training.preferences']({}), again)

    // a kept value this app does not understand (an older or newer app's) reads as null
    const { project } = service.requireProject()
    writePreference(project.db, 'training.form', { datasetId: 4, config: { preset: 'gone' }, backend: 'wasm' })
    project.db.prepare(`UPDATE preferences SET value = 'not json' WHERE key = 'training.labelRunId'`).run()
    assert.deepEqual(await service.api['training.preferences']({}), { form: null, labelRunId: null, predictRunId: 2 })
  } finally {
    service.dispose()
  }
})
