// The run a view offers first (Predict, Label with a run): the completed run with the best validation IoU, never a
// cancelled one, whatever the order the runs come in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bestFinishedRun, type RunStatus } from '../../src/shared/api/training'

const run = (id: number, status: RunStatus, bestValIoU: number | null) => ({ id, status, bestValIoU })

test('the best finished run by validation IoU; a cancelled, failed or unfinished run is never offered first', () => {
  const runs = [run(3, 'cancelled', 0.28), run(2, 'completed', 0.73), run(1, 'completed', 0.84), run(4, 'interrupted', 0.9), run(5, 'running', 0.95)]
  assert.equal(bestFinishedRun(runs)?.id, 1)
  assert.equal(bestFinishedRun([run(3, 'cancelled', 0.99), run(6, 'failed', 0.5)]), null)
  assert.equal(bestFinishedRun([]), null)
})
