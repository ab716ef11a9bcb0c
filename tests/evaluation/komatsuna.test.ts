// Opt-in check on real plant photos (../shared/data/komatsuna, skipped when absent): the whole evaluation chain on
// real images, with an excess-green colour rule standing in for the U-Net.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { readRaster, type Raster } from '../../src/main/core/imaging/raster'
import { predictPhoto, type Predictor } from '../../src/main/core/model/tiling'
import { ThresholdSweep, probabilityHistogram } from '../../src/main/core/evaluation/metrics'
import { measureLeaves } from '../../src/main/core/prediction/measure'

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..')
const data = resolve(repoRoot, '..', 'shared', 'data', 'komatsuna')
const present = existsSync(join(data, 'rgb'))

/** Excess green 2g − r − b through a steep sigmoid: a per-pixel rule, so tiling must not change it. */
function excessGreen(rgb: Float32Array | Uint8Array, scale: number): Float32Array {
  const out = new Float32Array(rgb.length / 3)
  for (let i = 0; i < out.length; i++) {
    const exg = (2 * rgb[3 * i + 1] - rgb[3 * i] - rgb[3 * i + 2]) * scale
    out[i] = 1 / (1 + Math.exp(-20 * (exg - 0.1)))
  }
  return out
}

const predictor: Predictor = { inputSize: 64, predictBatch: async (rgb) => excessGreen(rgb, 1) }

test('komatsuna: tiled colour-rule prediction, pooled vs per-photo scores, leaf area of the labels', { skip: !present && `no data at ${data}` }, async () => {
  const photos = readdirSync(join(data, 'rgb'))
    .sort()
    .filter((_, i) => i % 15 === 0)
  const histograms = []
  for (const name of photos) {
    const photo = await readRaster(join(data, 'rgb', name), 3)
    const label = await readRaster(join(data, 'label', name.replace(/^rgb_/, 'label_')), 3)
    const truth: Raster = { width: label.width, height: label.height, channels: 1, data: new Uint8Array(label.width * label.height) }
    for (let i = 0; i < truth.data.length; i++) truth.data[i] = label.data[3 * i] | label.data[3 * i + 1] | label.data[3 * i + 2] ? 255 : 0

    const tiled = await predictPhoto(predictor, photo, { photo: name })
    const whole = excessGreen(photo.data, 1 / 255)
    for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(tiled.data[i] - whole[i]) < 1e-5, `${name} pixel ${i}`)
    histograms.push(probabilityHistogram(tiled.data, truth, name))

    const leafPixels = truth.data.reduce((n, v) => n + (v ? 1 : 0), 0)
    const measured = measureLeaves(truth, { photo: name })
    assert.equal(measured.areaPx, leafPixels)
    assert.ok(measured.leafCount >= 1, `${name} has leaves`)
  }
  const e = new ThresholdSweep(histograms).evaluate(0.5)
  // Measured on these 20 photos: pooled IoU ≈ 0.88, mean per photo ≈ 0.83, pixel accuracy ≈ 0.99.
  assert.ok(e.pooled.scores.iou > 0.8, `pooled IoU ${e.pooled.scores.iou}`)
  assert.ok(e.meanPerPhoto.iou < e.pooled.scores.iou, 'small plants are harder: the per-photo mean is lower')
  assert.ok(e.pooled.scores.pixelAccuracy > e.pooled.scores.iou + 0.05, 'pixel accuracy flatters (90 % background)')
})
