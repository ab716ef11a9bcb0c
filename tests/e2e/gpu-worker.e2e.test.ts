// The GPU worker: the real built page (out/renderer/gpu-worker.html) in Chromium, on WebGL2, driven by the real
// job-process side (RemoteEngine, trainUnet, loadModel) through a test bridge that carries the same messages as
// Electron's MessagePorts. Chromium here renders with SwiftShader (software): this checks correctness only.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { browserMissing } from '../helpers/browser'
import { openGpuWorkerPage, type GpuWorkerPage } from '../helpers/gpu-worker'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'
import { openEngine, type OpenEngine } from '../../src/main/core/model/engine-choice'
import { setGpuWorkerConnector } from '../../src/main/core/model/gpu-connector'
import { readCheckpoint } from '../../src/main/core/model/model-io'
import { trainUnet } from '../../src/main/core/training/train'
import type { Sample } from '../../src/main/core/training/data'
import { assertCheckpointsCross, assertGradientsMatchCpu, assertLossCurveMatchesWasm, smallRun } from '../helpers/engine-compare'

const skip = browserMissing()
let worker: GpuWorkerPage
let root: string
let photos: Sample[]

before(async () => {
  if (skip) return
  root = tempDir('leafseg-gpu-worker-')
  photos = await makePhotos(join(root, 'photos'), 12, { width: 48, height: 40, seed: 7 })
  worker = await openGpuWorkerPage()
  setGpuWorkerConnector(() => worker.connect())
})
after(async () => {
  if (skip) return
  setGpuWorkerConnector(null)
  await worker.close()
  await rm(root, { recursive: true, force: true })
})

test('the worker reports its renderer; SwiftShader is software: never called a GPU, never chosen by auto', { skip: skip ?? false }, async () => {
  const webgl = await openEngine('webgl')
  try {
    assert.equal(webgl.info.backend, 'webgl')
    assert.match(webgl.info.gpu!.renderer, /SwiftShader/)
    assert.equal(webgl.info.gpu!.software, true)
    assert.ok(webgl.info.gpu!.maxTextureSize! >= 4096, `max texture size ${webgl.info.gpu!.maxTextureSize}`)
    assert.match(webgl.info.device, /^CPU through a software renderer \(WebGL2 on ANGLE .*SwiftShader.*\): not a GPU$/)
  } finally {
    await webgl.close()
  }
  const auto = await openEngine('auto')
  try {
    assert.notEqual(auto.info.backend, 'webgl')
    assert.doesNotMatch(auto.info.device, /GPU/)
    assert.match(auto.info.reason ?? '', /the GPU worker found only a software renderer \(ANGLE .*SwiftShader/)
  } finally {
    await auto.close()
  }
})

test('every gradient of a small U-Net on WebGL matches the cpu backend, for each loss', { skip: skip ?? false }, async () => {
  const gpu = await openEngine('webgl')
  try {
    await assertGradientsMatchCpu(gpu, photos, 1e-5)
  } finally {
    await gpu.close()
  }
})

test('20 training steps on WebGL give the loss curve of wasm from the same weights and batches', { skip: skip ?? false }, async () => {
  const gpu = await openEngine('webgl')
  try {
    await assertLossCurveMatchesWasm(gpu, photos)
  } finally {
    await gpu.close()
  }
})

test('a checkpoint trained on the worker predicts the same masks on wasm; a wasm run resumes on the worker', { skip: skip ?? false }, async () => {
  const gpu = await openEngine('webgl')
  try {
    await assertCheckpointsCross(gpu, 'webgl', root, photos)
  } finally {
    await gpu.close()
  }
})

/** The epoch of the checkpoint in a run's last/ folder. */
async function lastEpoch(runDir: string): Promise<number> {
  await readCheckpoint(join(runDir, 'last')) // loads: the checkpoint is whole
  return (JSON.parse(await readFile(join(runDir, 'last', 'leafseg.json'), 'utf8')) as { epoch: number }).epoch
}

test('a lost WebGL context stops the run with the message, keeps the last checkpoint, and the run resumes on the CPU', { skip: skip ?? false }, async () => {
  const own = await openGpuWorkerPage() // losing the context ends WebGL in that page for good
  setGpuWorkerConnector(() => own.connect())
  try {
    const gpu = await openEngine('webgl')
    const runDir = join(root, 'lost')
    const onBatch = (epoch: number, batch: number) => {
      if (epoch === 2 && batch === 1) void own.loseContext()
    }
    await assert.rejects(
      trainUnet(smallRun(photos, runDir, gpu, { epochs: 3, onBatch })),
      /^Error: The GPU context was lost at batch 2 of epoch 2: The browser lost the WebGL context .*SwiftShader.* The run stopped and its checkpoint of epoch 1 is kept: resume it, or resume it on the CPU \(backend wasm\)/
    )
    await gpu.close()
    assert.equal(await lastEpoch(runDir), 1)
    const wasm = await openEngine('wasm')
    const resumed = await trainUnet(smallRun(photos, runDir, wasm, { epochs: 3, resume: true }))
    await wasm.close()
    assert.deepEqual(
      resumed.history.map((e) => e.epoch),
      [1, 2, 3]
    )
  } finally {
    setGpuWorkerConnector(() => worker.connect())
    await own.close()
  }
})

test(
  'a batch too big for the GPU is refused before the run; running out mid-run stops it with a batch size and the checkpoint',
  { skip: skip ?? false },
  async () => {
    // A page told its GPU holds textures of at most 256² (tfjs's WEBGL_MAX_TEXTURE_SIZE): batch 3 fits, 4 does not.
    const small = await openGpuWorkerPage({ maxTextureSize: 256 })
    setGpuWorkerConnector(() => small.connect())
    try {
      const gpu = await openEngine('webgl')
      const runDir = join(root, 'too-big')
      await assert.rejects(
        trainUnet(smallRun(photos, runDir, gpu, { batchSize: 8 })),
        /at batch size 8 needs a tensor of 589,824 values, more than one GPU texture \(at most 256 px a side\) holds\. A batch size of 3 or less would fit\./
      )
      await trainUnet(smallRun(photos, runDir, gpu, { epochs: 1 }))
      // Out of memory mid-run, as when the estimate is wrong: the engine is told the GPU's textures are larger than they are.
      const overReported: OpenEngine = { ...gpu, info: { ...gpu.info, gpu: { ...gpu.info.gpu!, maxTextureSize: 8192 } } }
      await assert.rejects(
        trainUnet(smallRun(photos, runDir, overReported, { batchSize: 8, resume: true })),
        /^Error: The GPU ran out of memory at batch 1 of epoch 2 \(batch size 8\): a batch size of 4 would fit\. The run stopped and its checkpoint of epoch 1 is kept: resume it with a batch size of 4, or resume it on the CPU \(backend wasm\) if it happens again\. \(Requested texture size \[\d+x\d+\] greater than WebGL maximum/
      )
      assert.equal(await lastEpoch(runDir), 1)
      await gpu.close()
    } finally {
      setGpuWorkerConnector(() => worker.connect())
      await small.close()
    }
  }
)
