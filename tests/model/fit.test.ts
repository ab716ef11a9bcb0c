// The fit check before a run: the wasm heap, and on the GPU worker the largest tensor against one texture or buffer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkTrainingFits, gpuTensorLimit } from '../../src/main/core/model/fit'
import { largestTensorElements, UNET_PRESETS } from '../../src/main/core/model/unet-size'

test('the largest tensor of a step is the widest im2col matrix, linear in the batch', () => {
  const tiny = { inputSize: 32, baseFilters: 4, depth: 2 }
  // up0_conv1 takes the concatenation (2 × 4 channels) at 32²: 32² × 9 × 8 values an image.
  assert.equal(largestTensorElements(tiny, 1), 32 * 32 * 9 * 8)
  assert.equal(largestTensorElements(tiny, 4), 4 * largestTensorElements(tiny, 1))
})

test('on WebGL a batch fits while its largest tensor fits one packed texture; the message names the batch that would', () => {
  const tiny = { inputSize: 32, baseFilters: 4, depth: 2 }
  // A 256² texture limit holds 4 × 256² packed values: batch 3 (221 184) fits, 4 (294 912) does not, as tfjs finds (see the e2e test).
  const gpu = { maxTextureSize: 256, maxBufferBytes: null }
  assert.equal(gpuTensorLimit(gpu), 4 * 256 ** 2)
  assert.equal(checkTrainingFits(tiny, 3, 'webgl', gpu).fits, true)
  const four = checkTrainingFits(tiny, 4, 'webgl', gpu)
  assert.equal(four.fits, false)
  assert.equal(four.largestBatch, 3)
  assert.match(four.message!, /more than one GPU texture \(at most 256 px a side\) holds\. A batch size of 3 or less would fit\./)
  // The seed network at batch 8 fits a common 16384² limit; an 8192² one takes batch 3 (256² × 9 × 128 values an image).
  assert.equal(checkTrainingFits(UNET_PRESETS.seed, 8, 'webgl', { maxTextureSize: 16384, maxBufferBytes: null }).fits, true)
  assert.equal(checkTrainingFits(UNET_PRESETS.seed, 8, 'webgl', { maxTextureSize: 8192, maxBufferBytes: null }).largestBatch, 3)
  assert.match(checkTrainingFits(UNET_PRESETS.seed, 1, 'webgl', { maxTextureSize: 4096, maxBufferBytes: null }).message!, /Not even one image fits/)
})

test('on WebGPU the largest tensor must fit one buffer', () => {
  const gpu = { maxTextureSize: null, maxBufferBytes: 256 * 2 ** 20 }
  const seed = UNET_PRESETS.seed
  const fit = checkTrainingFits(seed, 8, 'webgpu', gpu)
  assert.equal(fit.fits, largestTensorElements(seed, 8) * 4 <= 256 * 2 ** 20)
  assert.equal(fit.largestBatch, Math.floor((256 * 2 ** 20) / 4 / largestTensorElements(seed, 1)))
  assert.match(checkTrainingFits(seed, 64, 'webgpu', gpu).message!, /more than one GPU buffer \(at most 0\.3 GiB\) holds/)
})
