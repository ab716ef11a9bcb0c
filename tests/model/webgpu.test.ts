// The WebGPU engine: tfjs on Dawn in a thread of this process (webgpu-thread.ts), driven by the real job-process
// side (RemoteEngine, trainUnet, loadModel). Dawn finds Chromium's SwiftShader Vulkan driver here (software): this
// checks correctness only, never a GPU figure. Dawn reads VK_ICD_FILENAMES when it loads, so it is set first.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { cp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'
import { openEngine, openWebGpuEngine } from '../../src/main/core/model/engine-choice'
import { readCheckpoint } from '../../src/main/core/model/model-io'
import { loadModel } from '../../src/main/core/model/predict'
import { trainUnet } from '../../src/main/core/training/train'
import type { Sample } from '../../src/main/core/training/data'
import { byVariable, relativeError, smallNetwork, smallRun, trainingBatches } from '../helpers/engine-compare'

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
const skip = existsSync(SWIFTSHADER_ICD) ? false : `no software Vulkan driver to run WebGPU on (${SWIFTSHADER_ICD} is absent: install chromium)`
process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
process.env.XDG_RUNTIME_DIR ??= '/tmp'

let root: string
let photos: Sample[]

before(async () => {
  if (skip) return
  root = tempDir('leafseg-webgpu-')
  photos = await makePhotos(join(root, 'photos'), 12, { width: 48, height: 40, seed: 7 })
})
after(async () => {
  if (!skip) await rm(root, { recursive: true, force: true })
})

test('WebGPU reports its adapter; SwiftShader is software: never called a GPU, never chosen by auto', { skip }, async () => {
  const webgpu = await openEngine('webgpu')
  try {
    assert.equal(webgpu.info.backend, 'webgpu')
    assert.deepEqual(webgpu.info.gpu!.adapter, {
      vendor: 'google',
      architecture: 'swiftshader',
      device: webgpu.info.gpu!.adapter!.device,
      description: webgpu.info.gpu!.adapter!.description
    })
    assert.match(webgpu.info.gpu!.adapter!.description, /SwiftShader/)
    assert.equal(webgpu.info.gpu!.software, true)
    assert.ok(webgpu.info.gpu!.maxBufferBytes! >= 2 ** 28, `max buffer ${webgpu.info.gpu!.maxBufferBytes}`)
    assert.match(webgpu.info.device, /^CPU through a software adapter \(WebGPU on google swiftshader .*SwiftShader.*\): not a GPU$/)
  } finally {
    await webgpu.close()
  }
  const auto = await openEngine('auto')
  try {
    assert.notEqual(auto.info.backend, 'webgpu')
    assert.doesNotMatch(auto.info.device, /GPU/)
    assert.match(auto.info.reason ?? '', /WebGPU found only a software adapter \(google swiftshader .*\), which is slower than the CPU backends/)
  } finally {
    await auto.close()
  }
})

test('with no adapter, WebGPU says so in one line', { skip }, async () => {
  // Dawn reads the Vulkan driver list each time a thread creates its instance: none here.
  process.env.VK_ICD_FILENAMES = join(root, 'no-driver.json')
  try {
    await assert.rejects(openEngine('webgpu'), /^GpuWorkerError: WebGPU found no adapter: this machine has no GPU driver Dawn can use \(Vulkan on Linux/)
  } finally {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
  }
})

test('every gradient of a small U-Net on WebGPU matches the cpu backend, for each loss', { skip }, async () => {
  const gpu = await openEngine('webgpu')
  const cpu = await openEngine('cpu')
  try {
    const [batch] = await trainingBatches(photos, 1, 2)
    for (const loss of ['bce', 'dice', 'bce+dice'] as const) {
      await gpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 1 }, loss, learningRate: 1e-3 })
      await cpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 1 }, loss, learningRate: 1e-3, weights: await gpu.engine.getWeights() })
      const onGpu = byVariable(await gpu.engine.gradients(batch.x, batch.y, batch.n))
      const onCpu = byVariable(await cpu.engine.gradients(batch.x, batch.y, batch.n))
      assert.deepEqual([...onGpu.keys()], [...onCpu.keys()])
      // Every layer kind has a variable: 3x3 convs, 2x2 transposed convs (up*), the 1x1 sigmoid output.
      for (const name of ['down0_conv1/kernel', 'bridge_conv2/kernel', 'up1/kernel', 'up0/bias', 'up0_conv1/kernel', 'mask/kernel'])
        assert.ok(onGpu.has(name), name)
      for (const [name, g] of onGpu) {
        const error = relativeError(g, onCpu.get(name)!)
        assert.ok(error < 1e-4, `${loss}: the gradient of ${name} differs by ${error.toExponential(2)} (relative)`)
      }
    }
  } finally {
    await gpu.close()
    await cpu.close()
  }
})

test('20 training steps on WebGPU give the loss curve of wasm from the same weights and batches', { skip }, async () => {
  const gpu = await openEngine('webgpu')
  const wasm = await openEngine('wasm')
  try {
    await gpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 2 }, loss: 'bce+dice', learningRate: 3e-3 })
    await wasm.engine.build({
      network: { kind: 'unet', size: smallNetwork, seed: 2 },
      loss: 'bce+dice',
      learningRate: 3e-3,
      weights: await gpu.engine.getWeights()
    })
    const curves = { gpu: [] as number[], wasm: [] as number[] }
    for (const b of await trainingBatches(photos, 20, 2)) {
      curves.gpu.push((await gpu.engine.trainStep(b.x, b.y, b.n)).loss)
      curves.wasm.push((await wasm.engine.trainStep(b.x, b.y, b.n)).loss)
    }
    const worst = Math.max(...curves.gpu.map((l, i) => Math.abs(l - curves.wasm[i])))
    assert.ok(worst < 1e-4, `the loss curves differ by up to ${worst}: ${JSON.stringify(curves)}`)
    assert.ok(curves.gpu[19] < curves.gpu[0], 'the loss went down')
  } finally {
    await gpu.close()
    await wasm.close()
  }
})

test('a checkpoint trained on WebGPU predicts the same masks on wasm; a wasm run resumes on WebGPU', { skip }, async () => {
  const gpu = await openEngine('webgpu')
  try {
    const runDir = join(root, 'on-gpu')
    const result = await trainUnet(smallRun(photos, runDir, gpu))
    assert.equal(result.backend.backend, 'webgpu')
    const x = (await trainingBatches(photos, 1, 4))[0]
    const onWasm = await loadModel(join(runDir, 'best'), 'wasm')
    const onGpu = await loadModel(join(runDir, 'best'), 'webgpu')
    const [p, q] = [await onWasm.predictBatch(x.x, x.n), await onGpu.predictBatch(x.x, x.n)]
    onWasm.dispose()
    onGpu.dispose()
    let differing = 0
    let worst = 0
    for (let i = 0; i < p.length; i++) {
      if (p[i] >= 0.5 !== q[i] >= 0.5) differing++
      worst = Math.max(worst, Math.abs(p[i] - q[i]))
    }
    assert.ok(differing <= p.length * 1e-3, `${differing} of ${p.length} mask pixels differ`)
    assert.ok(worst < 1e-3, `probabilities differ by up to ${worst}`)

    // The reverse: one epoch on wasm, then its second epoch on WebGPU and, from a copy, on wasm again: the same
    // losses and metrics, so the weights and Adam's state crossed intact.
    const wasm = await openEngine('wasm')
    const reverseDir = join(root, 'on-wasm')
    await trainUnet(smallRun(photos, reverseDir, wasm, { epochs: 1 }))
    await cp(reverseDir, `${reverseDir}-copy`, { recursive: true })
    const onWebGpu = await trainUnet(smallRun(photos, reverseDir, gpu, { resume: true }))
    const onCpu = await trainUnet(smallRun(photos, `${reverseDir}-copy`, wasm, { resume: true }))
    await wasm.close()
    assert.equal(onWebGpu.resumedAfterEpoch, 1)
    assert.equal(onWebGpu.optimizerRestored, true)
    const [w, c] = [onWebGpu.history[1], onCpu.history[1]]
    assert.equal(w.epoch, 2)
    assert.ok(Math.abs(w.train.loss - c.train.loss) < 1e-4, `epoch 2 train loss: ${w.train.loss} on WebGPU, ${c.train.loss} on wasm`)
    assert.ok(Math.abs(w.validation.iou - c.validation.iou) < 1e-3, `epoch 2 validation IoU: ${w.validation.iou} on WebGPU, ${c.validation.iou} on wasm`)
  } finally {
    await gpu.close()
  }
})

test('a lost WebGPU device stops the run with the message, keeps the last checkpoint, and the run resumes on the CPU', { skip }, async () => {
  // 8 photos in batches of 2: the 6th step is in epoch 2.
  const gpu = await openWebGpuEngine({ loseDeviceAtStep: 6 })
  const runDir = join(root, 'lost')
  await assert.rejects(
    trainUnet(smallRun(photos, runDir, gpu, { epochs: 3 })),
    /^Error: The GPU device was lost at batch \d of epoch 2: The GPU device was lost \(device was destroyed\)\. The run stopped and its checkpoint of epoch 1 is kept: resume it, or resume it on the CPU \(backend wasm\)/
  )
  await gpu.close()
  await readCheckpoint(join(runDir, 'last')) // loads: the checkpoint is whole
  assert.equal((JSON.parse(await readFile(join(runDir, 'last', 'leafseg.json'), 'utf8')) as { epoch: number }).epoch, 1)
  const wasm = await openEngine('wasm')
  const resumed = await trainUnet(smallRun(photos, runDir, wasm, { epochs: 3, resume: true }))
  await wasm.close()
  assert.deepEqual(
    resumed.history.map((e) => e.epoch),
    [1, 2, 3]
  )
})
