import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRaster } from '../../src/main/core/imaging/raster'
import { maskFromProbabilities, readProbabilityPng, writeMaskPng, writeProbabilityPng } from '../../src/main/core/model/mask'
import { seededRandom } from '../../src/shared/random'

test('a thresholded mask is written as a gray PNG that reads back as 0/255', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-mask-'))
  const probabilities = Float32Array.from([0.1, 0.5, 0.49, 0.99, 0, 1])
  await writeMaskPng(join(dir, 'm.png'), probabilities, 3, 2, 0.5)
  const back = await readRaster(join(dir, 'm.png'), 1)
  assert.deepEqual([back.width, back.height], [3, 2])
  assert.deepEqual(Array.from(back.data), [0, 255, 0, 255, 0, 255])
})

test('a probability map stored as PNG thresholds exactly like the original at grid thresholds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-prob-'))
  const random = seededRandom(11)
  const width = 50,
    height = 40
  const data = Float32Array.from({ length: width * height }, (_, i) => (i % 7 === 0 ? Math.floor(random() * 256) / 256 : random()))
  data[0] = 1
  data[1] = 0
  await writeProbabilityPng(join(dir, 'p.png'), { width, height, data })
  const back = await readProbabilityPng(join(dir, 'p.png'))
  assert.deepEqual([back.width, back.height], [width, height])
  for (let k = 0; k <= 255; k++) {
    const original = maskFromProbabilities(data, width, height, k / 256).data
    const stored = maskFromProbabilities(back.data, width, height, k / 256).data
    assert.deepEqual(stored, original, `threshold ${k}/256`)
  }
})
