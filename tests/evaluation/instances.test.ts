// The CVPPP measures on hand-made label images (0 = background, any other value = one leaf).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bestDice, instanceScores, summariseInstances } from '../../src/main/core/evaluation/instances'

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`)

function check(predicted: number[], truth: number[], expected: { sbd: number; dic: number; fbd: number }) {
  const s = instanceScores(predicted, truth)
  close(s.sbd, expected.sbd)
  assert.equal(s.dic, expected.dic)
  close(s.fbd, expected.fbd)
}

test('a perfect prediction scores 1 whatever numbers it gives the leaves', () => {
  check([5, 5, 5, 0, 3, 3, 3, 0], [1, 1, 1, 0, 2, 2, 2, 0], { sbd: 1, dic: 0, fbd: 1 })
})

test('one leaf split in two: each half has Dice 2/3 with the leaf, one leaf too many, the foreground is right', () => {
  check([1, 1, 2, 2, 0], [1, 1, 1, 1, 0], { sbd: 2 / 3, dic: 1, fbd: 1 })
  close(bestDice([1, 1, 2, 2, 0], [1, 1, 1, 1, 0]), 2 / 3)
})

test('two leaves merged: the same figures the other way round, one leaf too few', () => {
  check([1, 1, 1, 1, 0], [1, 1, 2, 2, 0], { sbd: 2 / 3, dic: -1, fbd: 1 })
})

test('a missed leaf: every predicted leaf is right (BD 1) but half the true leaves are not found (BD 1/2)', () => {
  const predicted = [1, 1, 0, 0, 0]
  const truth = [1, 1, 0, 2, 2]
  close(bestDice(predicted, truth), 1)
  close(bestDice(truth, predicted), 0.5)
  check(predicted, truth, { sbd: 0.5, dic: -1, fbd: 2 / 3 })
})

test('an extra leaf where there is none: SBD 1/2, one too many, foreground Dice 2/3', () => {
  check([1, 1, 0, 2, 2], [1, 1, 0, 0, 0], { sbd: 0.5, dic: 1, fbd: 2 / 3 })
})

test('an empty prediction scores 0 and misses every leaf; empty truth against empty prediction agrees', () => {
  check([0, 0, 0, 0], [1, 1, 0, 2], { sbd: 0, dic: -2, fbd: 0 })
  check([0, 0, 0, 0], [0, 0, 0, 0], { sbd: 1, dic: 0, fbd: 1 })
  check([0, 3, 3, 0], [0, 0, 0, 0], { sbd: 0, dic: 1, fbd: 0 })
})

test('a leaf partly right: its Dice, not 1 or 0', () => {
  // truth leaf 4 px, predicted 2 of them plus 2 background pixels: Dice 2·2/(4+4).
  check([1, 1, 0, 0, 1, 1], [1, 1, 1, 1, 0, 0], { sbd: 0.5, dic: 0, fbd: 0.5 })
})

test('the summary means each figure over photos, |DiC| before averaging', () => {
  const summary = summariseInstances([instanceScores([1, 1, 2, 2], [1, 1, 1, 1]), instanceScores([1, 1, 1, 1], [1, 1, 2, 2]), instanceScores([1, 0], [1, 0])])!
  close(summary.sbd, (2 / 3 + 2 / 3 + 1) / 3)
  close(summary.dic, 0)
  close(summary.absDic, 2 / 3)
  close(summary.fbd, 1)
  assert.equal(summary.photos, 3)
  assert.equal(summariseInstances([]), null)
})

test('label images of different sizes are refused', () => {
  assert.throws(() => instanceScores([1, 1], [1, 1, 1]), /differ in size/)
})
