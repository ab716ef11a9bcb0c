// The trait histogram's axes: round tick values a person can read, counts from 0 to at least the tallest bar.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countTicks, niceTicks, roundStep } from '../../src/renderer/src/lib/ticks'

test('round steps and ticks inside the range', () => {
  assert.deepEqual([0.6, 1.5, 3, 8, 40, 0.013].map(roundStep), [0.5, 2, 5, 10, 50, 0.01])
  assert.deepEqual(niceTicks(123, 4870, 5), [1000, 2000, 3000, 4000])
  assert.deepEqual(niceTicks(0.12, 0.93, 4), [0.2, 0.4, 0.6, 0.8])
  assert.deepEqual(niceTicks(0.1, 0.4, 3), [0.1, 0.2, 0.3, 0.4])
  assert.deepEqual(niceTicks(5, 5), [5])
  assert.deepEqual(niceTicks(Number.NaN, 1), [])
})

test('count ticks start at 0 and reach the tallest bar, whole numbers only', () => {
  assert.deepEqual(countTicks(1), [0, 1])
  assert.deepEqual(countTicks(3), [0, 1, 2, 3])
  assert.deepEqual(countTicks(17), [0, 5, 10, 15, 20])
  assert.deepEqual(countTicks(0), [0])
  for (const most of [1, 2, 7, 23, 99, 1234]) {
    const t = countTicks(most)
    assert.ok(t[t.length - 1] >= most && t.every(Number.isInteger) && t.length <= 6, `${most}: ${t}`)
  }
})
