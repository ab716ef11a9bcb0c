// The fit check before a run: the wasm heap, and on the GPU worker the largest tensor against one texture or buffer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { checkTrainingFits, gpuTensorLimit, WASM_HEAP_LIMIT_BYTES } from '../../src/main/core/model/fit'
import { estimateTrainingBytes, largestTensorElements, UNET_PRESETS } from '../../src/main/core/model/unet-size'

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

test('with wasm workers, each worker holds the network and the activations of its share, and together they must fit the memory', () => {
  const seed = UNET_PRESETS.seed
  const one = checkTrainingFits(seed, 8, 'wasm')
  assert.equal(one.fits, false, 'the Seed U-Net at batch 8 does not fit one wasm heap')
  const four = checkTrainingFits(seed, 8, 'wasm', undefined, 4)
  assert.equal(four.bytes, 4 * estimateTrainingBytes(seed, 2))
  assert.equal(four.fits, four.bytes <= Math.min(4 * WASM_HEAP_LIMIT_BYTES, os.totalmem() * 0.7))
  const two = checkTrainingFits(seed, 64, 'wasm', undefined, 2)
  assert.equal(two.fits, false)
  assert.match(
    two.message!,
    /^Training a 256 px U-Net with 64 base filters and depth 4 at batch size 64: each of the 2 workers needs about [\d.]+ GiB, more than the 3\.5 GiB a wasm worker can use\. A batch size of \d+ or less would fit\. More workers would each take a smaller share\.$/
  )
  assert.ok(two.largestBatch >= one.largestBatch, 'two heaps hold at least the batch one does')
})
