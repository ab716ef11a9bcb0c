// The run a view offers first (Predict, Label with a run): the one last used there while it is still offered, else
// the completed run with the best validation IoU, never a cancelled one, whatever the order the runs come in. The
// Training view's dataset: the one last used, else the one with the most training photos.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bestFinishedRun, defaultRun, defaultTrainingDataset, type RunStatus } from '../../src/shared/api/training'

const run = (id: number, status: RunStatus, bestValIoU: number | null) => ({ id, status, bestValIoU })

test('the best finished run by validation IoU; a cancelled, failed or unfinished run is never offered first', () => {
  const runs = [run(3, 'cancelled', 0.28), run(2, 'completed', 0.73), run(1, 'completed', 0.84), run(4, 'interrupted', 0.9), run(5, 'running', 0.95)]
  assert.equal(bestFinishedRun(runs)?.id, 1)
  assert.equal(bestFinishedRun([run(3, 'cancelled', 0.99), run(6, 'failed', 0.5)]), null)
  assert.equal(bestFinishedRun([]), null)
})

test('the last used run first, while it is offered; else the best finished run', () => {
  const runs = [run(3, 'cancelled', 0.28), run(2, 'completed', 0.73), run(1, 'completed', 0.84)]
  assert.equal(defaultRun(runs, 2)?.id, 2, 'the last used run, though another is better')
  assert.equal(defaultRun(runs, 3)?.id, 3, 'a run the person chose stays chosen, even a cancelled one')
  assert.equal(defaultRun(runs, 9)?.id, 1, 'a last used run deleted since: the best finished one')
  assert.equal(defaultRun(runs, null)?.id, 1)
  assert.equal(defaultRun([run(3, 'cancelled', 0.28)], undefined), null)
})

test('the Training view’s dataset: the last used while it exists, else the most training photos', () => {
  const d = (id: number, train: number) => ({ id, splits: { train } })
  const datasets = [d(1, 0), d(2, 240), d(3, 12), d(4, 240)]
  assert.equal(defaultTrainingDataset(datasets, 3)?.id, 3)
  assert.equal(defaultTrainingDataset(datasets, null)?.id, 2, 'the most training photos, the first of a tie')
  assert.equal(defaultTrainingDataset(datasets, 99)?.id, 2)
  assert.equal(defaultTrainingDataset([d(5, 0), d(6, 1)], undefined)?.id, 6, 'never one with no training photos when another has some')
  assert.equal(defaultTrainingDataset([], 1), null)
})
