import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rename, rm, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { loadModelFiles, loadModelMeta, readableFolder, readOptimizerState, replaceFolder, saveModelFiles } from '../../src/main/core/model/model-io'

let root: string
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'leafseg-modelio-'))
  await initBackend({ force: 'wasm' })
})
after(() => rm(root, { recursive: true, force: true }))

test('a missing or damaged model is reported with its folder', async () => {
  await assert.rejects(loadModelFiles(join(root, 'nothing')), (err: Error) => err.message.includes(join(root, 'nothing')))
  const damaged = join(root, 'damaged')
  await mkdir(damaged)
  await writeFile(join(damaged, 'model.json'), '{"modelTopology": ')
  await assert.rejects(loadModelFiles(damaged), (err: Error) => err.message.includes(damaged))
})

test('replacing a checkpoint folder leaves one whole copy, also after an interrupted swap', async () => {
  const dir = join(root, 'last')
  const model = buildUnet({ inputSize: 16, baseFilters: 2, depth: 1 }, 2)
  const meta = { inputSize: 16, baseFilters: 2, depth: 1, sampling: { mode: 'whole' as const }, loss: 'bce', epoch: 1, validationIoU: 0.5 }
  await replaceFolder(dir, (tmp) => saveModelFiles(model, tmp, meta))
  await replaceFolder(dir, (tmp) => saveModelFiles(model, tmp, { ...meta, epoch: 2 }))
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith('last')), ['last'])
  assert.equal((await loadModelMeta(dir))?.epoch, 2)
  // A failing writer leaves the previous version in place.
  await assert.rejects(replaceFolder(dir, async () => { throw new Error('disk full') }), /disk full/)
  assert.equal((await loadModelMeta(dir))?.epoch, 2)
  // A crash between the two renames leaves only last.old: it is still found and loads.
  await rename(dir, `${dir}.old`)
  assert.equal(await readableFolder(dir), `${dir}.old`)
  const loaded = await loadModelFiles(dir)
  const [again, original] = tf.tidy(() => {
    const x = tf.ones([1, 16, 16, 3])
    return [(loaded.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync()]
  })
  assert.deepEqual(Array.from(again), Array.from(original))
  model.dispose()
  loaded.dispose()
})

test('an optimizer state saved before the engine (iteration count as int32) still restores Adam', async () => {
  // Written as Leafseg wrote it before checkpoints came from engines: tfjs's own encoding of Adam's weights.
  const model = buildUnet({ inputSize: 16, baseFilters: 2, depth: 1 }, 4)
  const optimizer = tf.train.adam(1e-3)
  const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 1)
  optimizer.minimize(() => (model.apply(x) as tf.Tensor).mean() as tf.Scalar, false, model.trainableWeights.map((w) => w.read() as tf.Variable))
  const weights = await optimizer.getWeights()
  const { data, specs } = await tf.io.encodeWeights(weights)
  assert.equal(specs[0].dtype, 'int32')
  const dir = join(root, 'old-optimizer')
  await mkdir(dir)
  await writeFile(join(dir, 'optimizer.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)))
  await writeFile(join(dir, 'optimizer.json'), JSON.stringify({ className: 'Adam', specs }))
  const state = await readOptimizerState(dir)
  assert.ok(state)
  assert.deepEqual(state.specs.map((s) => s.name), weights.map((w) => w.name))
  assert.equal(state.data[0], 1) // one step taken
  const moments = await Promise.all(weights.slice(1).map((w) => w.tensor.data()))
  assert.deepEqual(Array.from(state.data.subarray(1)), moments.flatMap((m) => Array.from(m)))
  tf.dispose([x, weights[0].tensor])
  model.dispose()
  optimizer.dispose()
})
