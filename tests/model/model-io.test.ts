import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rename, rm, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initBackend, tf } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { loadModelFiles, loadModelMeta, readableFolder, replaceFolder, saveModelFiles } from '../../src/main/core/model/model-io'

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
