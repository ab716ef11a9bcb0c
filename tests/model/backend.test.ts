import { test } from 'node:test'
import assert from 'node:assert/strict'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const hasTfjsNode = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((p) => {
  try {
    require.resolve(p)
    return true
  } catch {
    return false
  }
})

test('without tfjs-node the best backend is wasm, and the reason says why', { skip: hasTfjsNode && 'tfjs-node is installed here' }, async () => {
  const info = await initBackend()
  assert.equal(info.backend, 'wasm')
  assert.equal(tf.getBackend(), 'wasm')
  assert.match(info.device, /wasm/)
  assert.match(info.reason ?? '', /tfjs-node-gpu/)
  await assert.rejects(initBackend({ force: 'tensorflow' }), /TensorFlow backend is not available/)
})

test('a backend can be forced, and tensors survive the switch', async () => {
  const cpu = await initBackend({ force: 'cpu' })
  assert.equal(cpu.backend, 'cpu')
  const t = tf.tensor([1, 2, 3])
  const wasm = await initBackend({ force: 'wasm' })
  assert.equal(wasm.backend, 'wasm')
  assert.deepEqual(Array.from(t.mul(2).dataSync()), [2, 4, 6])
  t.dispose()
})
