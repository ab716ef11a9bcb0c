import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { augmentExample, augmentedPreviews, DEFAULT_AUGMENT, loadExample, streamBatches, type Sample } from '../../src/main/core/training/data'
import { seededRandom } from '../../src/shared/random'
import { makePhotos } from './fixtures'

let root: string
let photos: Sample[]

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'leafseg-data-'))
  photos = await makePhotos(join(root, 'photos'), 5, { width: 80, height: 60, seed: 2 })
})
after(() => rm(root, { recursive: true, force: true }))

// Fraction of mask pixels whose photo pixel is leaf-green (green clearly above red), and of the rest that are not.
function agreement(rgb: Float32Array, mask: Float32Array): number {
  let agree = 0
  for (let i = 0; i < mask.length; i++) {
    const green = rgb[i * 3 + 1] - rgb[i * 3] > 0.15
    if (green === (mask[i] === 1)) agree++
  }
  return agree / mask.length
}

test('a photo and its mask load at the network size, aligned', async () => {
  const { rgb, mask } = await loadExample(photos[0], 32, null, seededRandom(1))
  assert.equal(rgb.length, 32 * 32 * 3)
  assert.equal(mask.length, 32 * 32)
  assert.ok(mask.some((v) => v === 1) && mask.some((v) => v === 0))
  assert.ok(agreement(rgb, mask) > 0.9)
})

test('every augmentation keeps photo and mask aligned', async () => {
  for (let i = 0; i < 6; i++) {
    const { rgb, mask } = await loadExample(
      photos[i % photos.length],
      48,
      { ...DEFAULT_AUGMENT, hueDegrees: 5, noiseStd: 0.01, blurProbability: 0 },
      seededRandom(i)
    )
    assert.ok(agreement(rgb, mask) > 0.85, `sample ${i}: ${agreement(rgb, mask)}`)
    assert.ok(rgb.every((v) => v >= 0 && v <= 1))
    assert.ok(mask.every((v) => v === 0 || v === 1))
  }
})

test('noise is zero-mean with at most the configured standard deviation', () => {
  const stds: number[] = []
  for (let seed = 0; seed < 6; seed++) {
    const { rgb } = augmentExample(
      { rgb: new Float32Array(64 * 64 * 3).fill(0.5), mask: new Float32Array(64 * 64) },
      64,
      { noiseStd: 0.05 },
      seededRandom(seed)
    )
    let sum = 0
    let sq = 0
    for (const v of rgb) {
      sum += v
      sq += (v - 0.5) ** 2
    }
    assert.ok(Math.abs(sum / rgb.length - 0.5) < 0.005)
    stds.push(Math.sqrt(sq / rgb.length))
  }
  assert.ok(Math.max(...stds) <= 0.052, `std ${Math.max(...stds)}`)
  assert.ok(Math.max(...stds) > 0.01)
})

test('augmented previews are reproducible with a seed and differ from each other', async () => {
  const a = await augmentedPreviews(photos[1], { size: 40, count: 8, seed: 5 })
  const b = await augmentedPreviews(photos[1], { size: 40, count: 8, seed: 5 })
  assert.equal(a.length, 8)
  assert.deepEqual(
    a.map((p) => Buffer.from(p.photo.data).toString('base64')),
    b.map((p) => Buffer.from(p.photo.data).toString('base64'))
  )
  const distinct = new Set(a.map((p) => Buffer.from(p.mask.data).toString('base64')))
  assert.ok(distinct.size >= 4, `only ${distinct.size} distinct masks among 8`)
  assert.equal(a[0].photo.channels, 3)
  assert.equal(a[0].mask.channels, 1)
})

test('switched-off augmentation gives the plain resized photo', async () => {
  const plain = await loadExample(photos[2], 32, null, seededRandom(1))
  const off = await loadExample(photos[2], 32, {}, seededRandom(99))
  assert.deepEqual(Array.from(off.rgb), Array.from(plain.rgb))
  const flipped = await loadExample(photos[2], 32, { flips: true }, seededRandom(4))
  assert.notDeepEqual(Array.from(flipped.mask), Array.from(plain.mask))
})

test('fixed-scale crops keep the photo scale and stay aligned with the mask', async () => {
  const sampling = { mode: 'crops', scale: 0.5 } as const
  const a = await loadExample(photos[3], 16, null, seededRandom(8), sampling)
  const b = await loadExample(photos[3], 16, null, seededRandom(8), sampling)
  assert.deepEqual(Array.from(a.rgb), Array.from(b.rgb), 'same seed, same crop')
  const whole = await loadExample(photos[3], 16, null, seededRandom(8))
  assert.notDeepEqual(Array.from(a.rgb), Array.from(whole.rgb))
  // A 32 px window resized to 16 px: compare with the photo decoded at half size.
  const { data, info } = await sharp(photos[3].imagePath).resize(40, 30, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true })
  assert.equal(info.width, 40)
  let best = Infinity
  for (let top = 0; top + 16 <= 30; top++)
    for (let left = 0; left + 16 <= 40; left++) {
      let err = 0
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++) for (let c = 0; c < 3; c++) err += Math.abs(data[((top + y) * 40 + left + x) * 3 + c] / 255 - a.rgb[(y * 16 + x) * 3 + c])
      best = Math.min(best, err / (16 * 16 * 3))
    }
  assert.ok(best < 0.06, `the crop matches no window of the half-size photo (mean error ${best.toFixed(3)})`)
  const augmented = await loadExample(photos[3], 16, DEFAULT_AUGMENT, seededRandom(2), sampling)
  assert.ok(agreement(augmented.rgb, augmented.mask) > 0.8)
})

test('batches cover every sample once per epoch, shuffled by epoch', async () => {
  const ids = async (epoch: number) => {
    const seen: string[] = []
    for await (const batch of streamBatches(photos, { batchSize: 2, size: 16, augment: { flips: true }, seed: 1, epoch })) {
      assert.equal(batch.x.length, batch.n * 16 * 16 * 3)
      assert.equal(batch.y.length, batch.n * 16 * 16)
      seen.push(...batch.ids)
    }
    return seen
  }
  const one = await ids(1)
  assert.deepEqual([...one].sort(), photos.map((p) => p.id).sort())
  assert.deepEqual(await ids(1), one)
  const orders = new Set([one, await ids(2), await ids(3)].map((o) => o.join()))
  assert.ok(orders.size > 1)
})

test('a mask of the wrong size is reported with both file names', async () => {
  const maskPath = join(root, 'small.mask.png')
  await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
    .png()
    .toFile(maskPath)
  const bad = { id: 'bad', imagePath: photos[0].imagePath, maskPath }
  await assert.rejects(loadExample(bad, 16, null, seededRandom(1)), (err: Error) => err.message.includes(maskPath) && err.message.includes(photos[0].imagePath))
  const missing = { id: 'missing', imagePath: join(root, 'nope.jpg'), maskPath }
  await assert.rejects(loadExample(missing, 16, null, seededRandom(1)), /nope\.jpg/)
})
