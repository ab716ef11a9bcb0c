// The WebGPU engine: tfjs on Dawn in a thread of this process (webgpu-thread.ts), driven by the real job-process
// side (RemoteEngine, trainUnet, loadModel). Dawn finds Chromium's SwiftShader Vulkan driver here (software): this
// checks correctness only, never a GPU figure. Dawn reads VK_ICD_FILENAMES when it loads, so it is set first.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'
import { openEngine, openWebGpuEngine } from '../../src/main/core/model/engine-choice'
import { readCheckpoint } from '../../src/main/core/model/model-io'
import { trainUnet } from '../../src/main/core/training/train'
import type { Sample } from '../../src/main/core/training/data'
import { assertCheckpointsCross, assertGradientsMatchCpu, assertLossCurveMatchesWasm, smallRun } from '../helpers/engine-compare'

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
  try {
    await assertGradientsMatchCpu(gpu, photos, 1e-4)
  } finally {
    await gpu.close()
  }
})

test('20 training steps on WebGPU give the loss curve of wasm from the same weights and batches', { skip }, async () => {
  const gpu = await openEngine('webgpu')
  try {
    await assertLossCurveMatchesWasm(gpu, photos)
  } finally {
    await gpu.close()
  }
})

test('a checkpoint trained on WebGPU predicts the same masks on wasm; a wasm run resumes on WebGPU', { skip }, async () => {
  const gpu = await openEngine('webgpu')
  try {
    await assertCheckpointsCross(gpu, 'webgpu', root, photos)
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
