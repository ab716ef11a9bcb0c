// Child process for backend.test.ts: starts wasm with 2 threads and trains a small U-Net step on it and on cpu.
import { initBackend, tf } from '../../src/main/core/model/backend'
import { bceLoss, buildUnet } from '../../src/main/core/model/unet'

const info = await initBackend({ force: 'wasm', wasmThreads: 2 })
const grads: number[][] = []
const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5)
const y = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 6).round()
for (const backend of ['wasm', 'cpu'] as const) {
  await initBackend({ force: backend })
  const model = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 3)
  const { grads: g } = tf.variableGrads(() => bceLoss(y, model.apply(x) as tf.Tensor), model.trainableWeights.map((w) => w.read() as tf.Variable))
  grads.push(Object.values(g).flatMap((t) => Array.from(t.dataSync())))
  model.dispose()
}
let worst = 0
for (let i = 0; i < grads[0].length; i++) worst = Math.max(worst, Math.abs(grads[0][i] - grads[1][i]))
console.log(JSON.stringify({ device: info.device, worst, count: grads[0].length }))
