// Opt-in (LEAFSEG_LONG_TESTS=1, about 5 minutes on 2 busy cores): train on real plant photos, the komatsuna set in
// ../shared/data, split by plant so that no plant is in both sets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { openEngine } from '../../src/main/core/model/engine-choice'
import { trainUnet } from '../../src/main/core/training/train'
import { DEFAULT_AUGMENT, type Sample } from '../../src/main/core/training/data'

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..')
const data = resolve(repoRoot, '..', 'shared', 'data', 'komatsuna')
const skip = !process.env.LEAFSEG_LONG_TESTS ? 'set LEAFSEG_LONG_TESTS=1 to run' : !existsSync(data) ? `no komatsuna data at ${data}` : false

test('a U-Net trained on komatsuna plants 0-3 segments plant 4 with a validation IoU of at least 0.85', { skip }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'leafseg-komatsuna-'))
  try {
    const samples: Sample[] = []
    for (const name of (await readdir(join(data, 'rgb'))).sort()) {
      // Per-leaf colour labels to one binary mask: any colour is leaf.
      const label = await sharp(join(data, 'label', name.replace(/^rgb_/, 'label_')))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true })
      const mask = Buffer.alloc(label.info.width * label.info.height)
      for (let i = 0; i < mask.length; i++) mask[i] = label.data[i * 3] || label.data[i * 3 + 1] || label.data[i * 3 + 2] ? 255 : 0
      const maskPath = join(work, name)
      await sharp(mask, { raw: { width: label.info.width, height: label.info.height, channels: 1 } })
        .png()
        .toFile(maskPath)
      samples.push({ id: name, imagePath: join(data, 'rgb', name), maskPath })
    }
    const plant = (s: Sample) => s.id.split('_')[1]
    const result = await trainUnet({
      runDir: join(work, 'run'),
      train: samples.filter((s) => plant(s) !== '04'),
      validation: samples.filter((s) => plant(s) === '04'),
      model: { inputSize: 96, baseFilters: 8, depth: 3 },
      batchSize: 8,
      epochs: 12,
      learningRate: 3e-3,
      augment: DEFAULT_AUGMENT,
      seed: 1,
      engine: await openEngine('wasm'),
      onEpoch: (m) =>
        console.log(
          `epoch ${m.epoch}: ${m.seconds.toFixed(1)} s, train IoU ${m.train.iou.toFixed(3)}, validation IoU ${m.validation.iou.toFixed(3)} dice ${m.validation.dice.toFixed(3)} accuracy ${m.validation.accuracy.toFixed(3)}`
        )
    })
    assert.ok(result.bestIoU >= 0.85, `best validation IoU ${result.bestIoU.toFixed(3)}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
})
