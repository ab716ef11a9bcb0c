import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRaster } from '../../src/main/core/imaging/raster'
import { writeMaskPng } from '../../src/main/core/eval/mask'

test('a thresholded mask is written as a gray PNG that reads back as 0/255', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-mask-'))
  const probabilities = Float32Array.from([0.1, 0.5, 0.49, 0.99, 0, 1])
  await writeMaskPng(join(dir, 'm.png'), probabilities, 3, 2, 0.5)
  const back = await readRaster(join(dir, 'm.png'), 1)
  assert.deepEqual([back.width, back.height], [3, 2])
  assert.deepEqual(Array.from(back.data), [0, 255, 0, 255, 0, 255])
})
