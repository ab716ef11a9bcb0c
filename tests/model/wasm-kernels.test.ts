import { test } from 'node:test'
import assert from 'node:assert/strict'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { bceLoss, buildUnet } from '../../src/main/core/model/unet'
import { setIm2colLimit } from '../../src/main/core/model/wasm-kernels'

// Runs f on the cpu backend and on wasm (with our kernels) from the same inputs; returns both results.
async function onBoth(make: () => tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const results: Float32Array[][] = []
  const inputs = (await initBackend({ force: 'cpu' }), make()).map((t) => t.arraySync())
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend({ force: backend })
    const xs = inputs.map((a) => tf.tensor(a as number[]))
    const out = f(...xs)
    results.push(out.map((t) => t.dataSync() as Float32Array))
    tf.dispose([...xs, ...out])
  }
  return [results[0], results[1]]
}

function assertClose(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length)
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i].length, b[i].length, `${what}: output ${i} sizes differ`)
    let scale = 1e-6
    for (const v of a[i]) scale = Math.max(scale, Math.abs(v))
    let worst = 0
    for (let j = 0; j < a[i].length; j++) worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]))
    assert.ok(worst <= 1e-4 * scale + 1e-5, `${what}: output ${i} differs by ${worst} (largest value ${scale})`)
  }
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed)

for (const [stride, kernelSize, pad] of [
  [1, 3, 'same'],
  [2, 3, 'same'],
  [1, 3, 'valid'],
  [2, 2, 'same'],
  [1, 1, 'same']
] as const) {
  test(`conv2d gradients match cpu: ${kernelSize}x${kernelSize} stride ${stride} ${pad}`, async () => {
    const [cpu, wasm] = await onBoth(
      () => [rand([2, 9, 10, 3], 1), rand([kernelSize, kernelSize, 3, 5], 2)],
      (x, w) => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf
            .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)
            .square()
            .sum()
        )
        return g([x, w])
      }
    )
    assertClose(cpu, wasm, 'conv2d')
  })
}

test('conv2d gradients match cpu: 2x2 stride 2 on even sizes (non-overlapping taps)', async () => {
  const [cpu, wasm] = await onBoth(
    () => [rand([3, 8, 10, 5], 12), rand([2, 2, 5, 7], 13)],
    (x, w) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid')
          .square()
          .sum()
      )([x, w])
  )
  assertClose(cpu, wasm, 'conv2d 2x2/2')
})

test('split and concat along every axis match cpu', async () => {
  const [cpu, wasm] = await onBoth(
    () => [rand([2, 3, 4, 6], 21), rand([2, 3, 4, 2], 22), rand([2, 3, 4, 70], 23)],
    (a, b, c) => [
      ...tf.split(a, [1, 5], 3),
      ...tf.split(a, 2, 0),
      ...tf.split(a, [1, 2, 1], 2),
      ...tf.split(c, [64, 6], 3),
      tf.concat([a, b, c], 3),
      tf.concat([a, a], 1),
      tf.concat([a, a, a], 0),
      tf.concat([c, a], -1).cast('int32').cast('float32'),
      tf.concat([a.cast('int32'), b.cast('int32')], 3).cast('float32')
    ]
  )
  assertClose(cpu, wasm, 'split/concat')
})

test('max-pool gradients match cpu, ties and ReLU zeros included', async () => {
  const [cpu, wasm] = await onBoth(
    () => [rand([2, 6, 8, 3], 31).relu().mul(4).round(), rand([2, 7, 9, 3], 32)],
    (a, b) => [
      tf.grad((x: tf.Tensor) =>
        tf
          .maxPool(x as tf.Tensor4D, 2, 2, 'valid')
          .mul(tf.range(1, 2 * 3 * 4 * 3 + 1).reshape([2, 3, 4, 3]))
          .sum()
      )(a),
      tf.grad((x: tf.Tensor) =>
        tf
          .maxPool(x as tf.Tensor4D, 2, 2, 'same')
          .square()
          .sum()
      )(b),
      tf.grad((x: tf.Tensor) =>
        tf
          .maxPool(x as tf.Tensor4D, 3, 1, 'same')
          .square()
          .sum()
      )(b)
    ]
  )
  assertClose(cpu, wasm, 'maxPool')
})

test('sums over leading axes (bias gradients) and others match cpu', async () => {
  const [cpu, wasm] = await onBoth(
    () => [rand([2, 3, 4, 5], 11)],
    (x) => [x.sum([0, 1, 2]), x.sum([0, 1], true), x.sum(0), x.sum([1, 3]), x.sum(-1), x.sum()]
  )
  assertClose(cpu, wasm, 'sum')
})

test('the filter gradient split into image chunks matches cpu', async () => {
  setIm2colLimit(1000) // fewer floats than one image's im2col: one image per chunk
  try {
    const [cpu, wasm] = await onBoth(
      () => [rand([3, 8, 7, 4], 7), rand([3, 3, 4, 6], 8)],
      (x, w) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf
            .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
            .square()
            .sum()
        )([x, w])
    )
    assertClose(cpu, wasm, 'chunked conv2d')
  } finally {
    setIm2colLimit(64 * 1024 * 1024)
  }
})

for (const [kernelSize, stride] of [
  [2, 2],
  [3, 2],
  [3, 1]
] as const) {
  test(`transposed conv gradients match cpu: ${kernelSize}x${kernelSize} stride ${stride}`, async () => {
    const [cpu, wasm] = await onBoth(
      () => [rand([2, 5, 6, 4], 3), rand([kernelSize, kernelSize, 3, 4], 4)],
      (x, w) => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf
            .conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 5 * stride, 6 * stride, 3], stride, 'same')
            .square()
            .sum()
        )
        const forward = tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 5 * stride, 6 * stride, 3], stride, 'same')
        return [forward, ...g([x, w])]
      }
    )
    assertClose(cpu, wasm, 'conv2dTranspose')
  })
}

test('a small U-Net has the same loss gradient on wasm as on cpu', async () => {
  const grads: Float32Array[][] = []
  await initBackend({ force: 'cpu' })
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5).arraySync()
  const y = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 6).round().arraySync()
  let weights: tf.Tensor[] | undefined
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend({ force: backend })
    const model = buildUnet({ inputSize: 32, baseFilters: 4, depth: 3 })
    if (weights) model.setWeights(weights)
    else weights = model.getWeights().map((w) => w.clone())
    const xs = tf.tensor4d(x as number[][][][])
    const ys = tf.tensor4d(y as number[][][][])
    const { grads: g } = tf.variableGrads(
      () => bceLoss(ys, model.apply(xs) as tf.Tensor),
      model.trainableWeights.map((w) => w.read() as tf.Variable)
    )
    grads.push(model.trainableWeights.map((w) => g[(w.read() as tf.Variable).name]?.dataSync() as Float32Array))
    tf.dispose([xs, ys, ...Object.values(g)])
    model.dispose()
  }
  tf.dispose(weights!)
  assertClose(grads[0], grads[1], 'U-Net')
})
