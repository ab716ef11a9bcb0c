// The centre term of an instance network's loss: each pixel's cross-entropy weighed by the targets' third channel,
// divided by the weights' sum; pixels whose centre is unknown (-1) count for nothing whatever their weight.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs'
import { instanceLoss } from '../../src/main/core/model/unet'

const bce = (y: number, p: number) => -(y * Math.log(p) + (1 - y) * Math.log(1 - p))

test("the centre loss weighs each pixel's cross-entropy by its weight and leaves out unknown centres", async () => {
  await tf.setBackend('cpu')
  const centre = [1, 0.5, 0, -1]
  const predicted = [0.8, 0.5, 0.3, 0.9]
  const loss = (weights: number[]) => {
    const y = tf.tensor4d(
      centre.flatMap((c, i) => [1, c, weights[i]]),
      [1, 1, 4, 3]
    )
    const p = tf.tensor4d(
      predicted.flatMap((c) => [1, c]),
      [1, 1, 4, 2]
    )
    const value = instanceLoss(() => tf.scalar(0))(y, p)
    try {
      return value.dataSync()[0]
    } finally {
      tf.dispose([y, p, value])
    }
  }
  const terms = [0, 1, 2].map((i) => bce(centre[i], predicted[i]))
  // Even weights: the plain mean over the known pixels.
  assert.ok(Math.abs(loss([1, 1, 1, 1]) - (terms[0] + terms[1] + terms[2]) / 3) < 1e-5)
  // Uneven weights: the weighted mean; the unknown pixel's weight changes nothing.
  const weighted = (1 * terms[0] + 3 * terms[1] + 2 * terms[2]) / 6
  assert.ok(Math.abs(loss([1, 3, 2, 7]) - weighted) < 1e-5)
  assert.ok(Math.abs(loss([1, 3, 2, 0]) - weighted) < 1e-5)
})
