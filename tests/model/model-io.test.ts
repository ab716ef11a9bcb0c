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
  assert.deepEqual(
    (await readdir(root)).filter((f) => f.startsWith('last')),
    ['last']
  )
  assert.equal((await loadModelMeta(dir))?.epoch, 2)
  // A failing writer leaves the previous version in place.
  await assert.rejects(
    replaceFolder(dir, async () => {
      throw new Error('disk full')
    }),
    /disk full/
  )
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
  optimizer.minimize(
    () => (model.apply(x) as tf.Tensor).mean() as tf.Scalar,
    false,
    model.trainableWeights.map((w) => w.read() as tf.Variable)
  )
  const weights = await optimizer.getWeights()
  const { data, specs } = await tf.io.encodeWeights(weights)
  assert.equal(specs[0].dtype, 'int32')
  const dir = join(root, 'old-optimizer')
  await mkdir(dir)
  await writeFile(join(dir, 'optimizer.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)))
  await writeFile(join(dir, 'optimizer.json'), JSON.stringify({ className: 'Adam', specs }))
  const state = await readOptimizerState(dir)
  assert.ok(state)
  assert.deepEqual(
    state.specs.map((s) => s.name),
    weights.map((w) => w.name)
  )
  assert.equal(state.data[0], 1) // one step taken
  const moments = await Promise.all(weights.slice(1).map((w) => w.tensor.data()))
  assert.deepEqual(
    Array.from(state.data.subarray(1)),
    moments.flatMap((m) => Array.from(m))
  )
  tf.dispose([x, weights[0].tensor])
  model.dispose()
  optimizer.dispose()
})

test(
  'a model folder is read only inside itself: weight paths out, links out, FIFOs, wrong sizes and huge files are refused by name',
  { timeout: 120_000 },
  async () => {
    const { execFileSync } = await import('node:child_process')
    const { readFileSync, symlinkSync, truncateSync, writeFileSync, cpSync } = await import('node:fs')
    const good = join(root, 'good')
    await mkdir(good)
    const model = buildUnet({ inputSize: 16, baseFilters: 2, depth: 1 }, 2)
    await saveModelFiles(model, good, { inputSize: 16, baseFilters: 2, depth: 1, sampling: { mode: 'whole' }, loss: 'bce', epoch: 1, validationIoU: 0.5 })
    model.dispose()
    ;(await loadModelFiles(good)).dispose()
    /** A copy of the good model whose manifest lists `path` as its weights file. */
    const withWeights = async (name: string, path: string, plant?: (dir: string) => void): Promise<string> => {
      const dir = join(root, name)
      cpSync(good, dir, { recursive: true })
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
      json.weightsManifest[0].paths = [path]
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json))
      plant?.(dir)
      return dir
    }
    // Once, '../../../dev/zero' read past 5 GB, a FIFO hung for ever and /etc/passwd was read and its size echoed.
    const zero = await withWeights('zero', '../../../../../../../../dev/zero')
    await assert.rejects(loadModelFiles(zero), /zero.*weights path "\.\.\/.*dev\/zero" leads out of the model folder/)
    const absolute = await withWeights('absolute', '/etc/passwd')
    await assert.rejects(loadModelFiles(absolute), /weights path "\/etc\/passwd" leads out of the model folder/)
    const linked = await withWeights('linked', 'passwd.bin', (dir) => symlinkSync('/etc/passwd', join(dir, 'passwd.bin')))
    await assert.rejects(loadModelFiles(linked), /lists passwd\.bin, a link that leads out of the model folder/)
    const fifo = await withWeights('fifo', 'pipe.bin', (dir) => execFileSync('mkfifo', [join(dir, 'pipe.bin')]))
    await assert.rejects(loadModelFiles(fifo), /lists pipe\.bin, which is not a regular file/)
    const short = await withWeights('short', 'weights.bin', (dir) => truncateSync(join(dir, 'weights.bin'), 100))
    await assert.rejects(loadModelFiles(short), /weights\.bin holds 100 bytes where .*model\.json lists \d+/)
    // A huge model.json (sparse: nothing is written) is refused from its size, unread.
    const huge = join(root, 'huge')
    cpSync(good, huge, { recursive: true })
    truncateSync(join(huge, 'model.json'), 200 << 20)
    await assert.rejects(loadModelFiles(huge), /huge\/model\.json is 209715200 bytes; a model's model\.json is at most/)
    // A broken leafseg.json is named (it once failed as a bare JSON error).
    const broken = join(root, 'broken-meta')
    cpSync(good, broken, { recursive: true })
    writeFileSync(join(broken, 'leafseg.json'), '{"inputSize": 16,')
    await assert.rejects(loadModelMeta(broken), /broken-meta\/leafseg\.json is not valid JSON/)
  }
)
