import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writePng } from '../../src/main/core/imaging/raster'
import { evaluateSet } from '../../src/main/core/evaluation/evaluate'
import { confusionAt, scores } from '../../src/main/core/evaluation/metrics'
import type { Predictor } from '../../src/main/core/model/tiling'

// Red channel as probability: a per-pixel rule, so the expected counts follow from the generated pixels.
const redPredictor: Predictor = {
  inputSize: 16,
  async predictBatch(rgb) {
    const out = new Float32Array(rgb.length / 3)
    for (let i = 0; i < out.length; i++) out[i] = rgb[3 * i]
    return out
  }
}

async function writeSet(dir: string): Promise<{ photo: string; truth: string; red: Uint8Array; mask: Uint8Array; width: number; height: number }[]> {
  const out = []
  for (const [n, width, height] of [
    [0, 40, 30],
    [1, 20, 50]
  ]) {
    const red = Uint8Array.from({ length: width * height }, (_, i) => (i * 37 + n * 11) % 256)
    const mask = Uint8Array.from({ length: width * height }, (_, i) => ((i * 53 + n) % 256 >= 100 ? 255 : 0))
    const rgb = new Uint8Array(width * height * 3)
    red.forEach((v, i) => (rgb[3 * i] = v))
    const photo = join(dir, `p${n}.png`)
    const truth = join(dir, `m${n}.png`)
    await writePng(photo, { width, height, channels: 3, data: rgb })
    await writePng(truth, { width, height, channels: 1, data: mask })
    out.push({ photo, truth, red, mask, width, height })
  }
  return out
}

test('a set is read, predicted and scored; the sweep matches counts computed from the pixels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-evaluate-'))
  const set = await writeSet(dir)
  const progress: number[] = []
  const stored: number[] = []
  const { sweep } = await evaluateSet(redPredictor, set, {
    onProgress: (done) => progress.push(done),
    onPrediction: (index, map) => void stored.push(index, map.width)
  })
  assert.deepEqual(progress, [0, 1, 2])
  assert.deepEqual(stored, [0, 40, 1, 20])
  const e = sweep.evaluate(0.5)
  set.forEach((s, i) => {
    const expected = confusionAt(
      Float32Array.from(s.red, (v) => v / 255),
      { width: s.width, height: s.height, channels: 1, data: s.mask },
      0.5
    )
    assert.deepEqual(e.perPhoto[i].confusion, expected)
    assert.deepEqual(e.perPhoto[i].scores, scores(expected))
  })
})

test('a mask of the wrong size names both files; cancel stops between photos', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-evaluate-'))
  const [a, b] = await writeSet(dir)
  await assert.rejects(
    evaluateSet(redPredictor, [{ photo: a.photo, truth: b.truth }]),
    (err: Error) => err.message.includes(b.truth) && err.message.includes(a.photo) && err.message.includes('20×50')
  )
  const controller = new AbortController()
  await assert.rejects(evaluateSet(redPredictor, [a, b], { signal: controller.signal, onProgress: (done) => done === 1 && controller.abort() }), {
    name: 'AbortError'
  })
  await assert.rejects(evaluateSet(redPredictor, []), /no photos/)
})
