// The pixel classifier from strokes: its filters on hand-made images, the forest, its file (and a hostile one), training
// on a generated leaf photo, and the whole path through the API on a real project: strokes saved, a classifier
// trained, a photo classified, the dataset labelled by a job whose masks enter the review queue, a cancel, clean-up.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { pixelFeatures, featureNames, featureCount, otsuThreshold } from '../../src/main/core/labelling/pixel-features'
import { predictForest, trainForest } from '../../src/main/core/labelling/forest'
import { classifyPixels, trainPixelClassifier } from '../../src/main/core/labelling/pixel-classifier'
import { readClassifierFile, writeClassifierFile } from '../../src/main/core/labelling/classifier-files'
import { LabellingThread } from '../../src/main/core/labelling/labelling-thread'
import { seededRandom } from '../../src/shared/random'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { encodeRle } from '../../src/shared/rle'
import { leafPhoto, writeLeafPhoto } from '../helpers/leaf-photo'
import { tempDir } from '../helpers/temp'

function dice(p: Float32Array, truth: Uint8Array): number {
  let inter = 0
  let a = 0
  let b = 0
  for (let i = 0; i < p.length; i++) {
    const q = p[i] >= 0.5 ? 1 : 0
    const t = truth[i] ? 1 : 0
    inter += q & t
    a += q
    b += t
  }
  return a + b ? (2 * inter) / (a + b) : 1
}

/** Strokes as a person paints them: a short line of leaf inside the leaf, one of background outside. */
function paintStrokes(truth: Uint8Array, width: number, height: number): Uint8Array {
  const strokes = new Uint8Array(width * height)
  const cy = Math.round(height / 2)
  for (let x = Math.round(width * 0.35); x < Math.round(width * 0.65); x++) for (let dy = -1; dy <= 1; dy++) strokes[(cy + dy) * width + x] = 1
  for (let x = 2; x < width - 2; x++) for (let y = 2; y < 5; y++) strokes[y * width + x] = 2
  for (let y = 5; y < height - 2; y++) for (let x = 2; x < 5; x++) strokes[y * width + x] = 2
  for (let i = 0; i < strokes.length; i++) if (strokes[i] === 1 && !truth[i]) strokes[i] = 0
  return strokes
}

test('features: a bright blob has a negative LoG at its centre and a positive one just outside; names match the count', () => {
  const w = 41
  const rgb = new Uint8Array(w * w * 3)
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) if ((x - 20) ** 2 + (y - 20) ** 2 <= 16) rgb.fill(230, (y * w + x) * 3, (y * w + x) * 3 + 3)
  const sigmas = [0.7, 1.6, 3.5]
  const f = pixelFeatures({ width: w, height: w, channels: 3, data: rgb }, sigmas)
  assert.equal(f.count, featureCount(sigmas))
  assert.equal(featureNames(sigmas).length, f.count)
  const n = w * w
  const names = featureNames(sigmas)
  const at = (name: string, x: number, y: number) => f.data[names.indexOf(name) * n + y * w + x]
  assert.ok(at('LoG σ1.6', 20, 20) < 0, 'bright blob: negative LoG in the middle')
  assert.ok(at('LoG σ1.6', 20, 26) > 0, 'positive just outside')
  assert.ok(at('gradient σ1.6', 24, 20) > at('gradient σ1.6', 20, 20), 'the gradient is largest on the edge')
  assert.ok(at('structure λ1 σ1.6', 24, 20) > at('structure λ1 σ1.6', 2, 2), 'structure tensor: an edge against a flat corner')
  assert.ok(at('gray σ3.5', 20, 20) > at('gray σ3.5', 2, 2))
  for (const v of f.data) assert.ok(Number.isFinite(v))
})

test("Otsu's threshold splits two groups of values between them; the photo-relative excess green is positive on the leaf however the photo is lit", () => {
  const values = Float32Array.from({ length: 1000 }, (_, i) => (i < 700 ? 10 + (i % 7) : 60 + (i % 5)))
  const t = otsuThreshold(values)
  assert.ok(t > 16 && t < 60, `threshold ${t} between 16 and 60`)
  assert.equal(otsuThreshold(new Float32Array([3, 3, 3])), 3, 'one value: no split')
  // The same green leaf on brown soil, lit dimly and brightly: excess green differs, its sign against the photo's split does not.
  const w = 24
  for (const light of [0.35, 1]) {
    const rgb = new Uint8Array(w * w * 3)
    for (let i = 0; i < w * w; i++) {
      const leaf = i % w < 10
      rgb.set(leaf ? [70 * light, 200 * light, 50 * light] : [150 * light, 110 * light, 80 * light], i * 3)
    }
    const f = pixelFeatures({ width: w, height: w, channels: 3, data: rgb })
    const plane = featureNames([0.7, 1.6, 3.5]).indexOf('ExG − Otsu σ0.7')
    const at = (x: number) => f.data[plane * w * w + 12 * w + x]
    assert.ok(at(3) > 0 && at(20) < 0, `light ${light}: leaf ${at(3)}, soil ${at(20)}`)
  }
})

test('the forest learns a simple separable problem and gives the same trees for the same seed', () => {
  const random = seededRandom(4)
  const n = 600
  const x = new Float32Array(n * 3)
  const y = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    x[i * 3] = random()
    x[i * 3 + 1] = random()
    x[i * 3 + 2] = random()
    y[i] = x[i * 3] + 0.5 * x[i * 3 + 1] > 0.8 ? 1 : 0
  }
  const forest = trainForest(x, y, 3, { trees: 30, seed: 7 })
  // planes for prediction: a grid of new points
  const m = 400
  const planes = new Float32Array(m * 3)
  const truth: number[] = []
  for (let i = 0; i < m; i++) {
    const a = random()
    const b = random()
    planes[i] = a
    planes[m + i] = b
    planes[2 * m + i] = random()
    truth.push(a + 0.5 * b > 0.8 ? 1 : 0)
  }
  const p = new Float32Array(m)
  predictForest(forest, planes, p)
  const correct = truth.filter((t, i) => (p[i] >= 0.5 ? 1 : 0) === t).length
  assert.ok(correct / m > 0.93, `accuracy ${correct / m}`)
  const again = trainForest(x, y, 3, { trees: 30, seed: 7 })
  assert.deepEqual(Array.from(again.threshold), Array.from(forest.threshold))
  assert.notDeepEqual(Array.from(trainForest(x, y, 3, { trees: 30, seed: 8 }).threshold), Array.from(forest.threshold))
})

test('strokes on a generated leaf photo train a classifier with Dice > 0.9 on another; its file round-trips', async () => {
  const a = leafPhoto(160, 120, { seed: 3 })
  const b = leafPhoto(150, 130, { seed: 9 })
  const c = trainPixelClassifier([{ rgb: { width: a.width, height: a.height, channels: 3, data: a.rgb }, strokes: paintStrokes(a.truth, a.width, a.height) }])
  const p = classifyPixels(c, { width: b.width, height: b.height, channels: 3, data: b.rgb })
  const d = dice(p, b.truth)
  assert.ok(d > 0.9, `Dice ${d}`)
  const file = join(tempDir(), 'c.json')
  await writeClassifierFile(file, c)
  const back = await readClassifierFile(file)
  assert.deepEqual(Array.from(classifyPixels(back, { width: b.width, height: b.height, channels: 3, data: b.rgb })), Array.from(p))
})

test('a retrain computes filters only for photos whose strokes changed: the samples of the others are kept, however many photos have strokes', async () => {
  // more stroked photos than the thread keeps features of (8), so without kept samples a retrain would read photos again
  const photos = Array.from({ length: 10 }, (_, k) => leafPhoto(64, 48, { seed: 20 + k }))
  const strokes = photos.map((p) => paintStrokes(p.truth, p.width, p.height))
  const thread = new LabellingThread()
  try {
    const reads: string[] = []
    const send = (changed?: number) =>
      thread.train(
        photos.map((p, k) => ({
          key: `photo-${k}`,
          width: p.width,
          height: p.height,
          strokes: k === changed ? strokes[k].map((v, i) => (i % 7 ? v : 0)) : strokes[k]
        })),
        async (key) => {
          reads.push(key)
          const p = photos[Number(key.split('-')[1])]
          return { width: p.width, height: p.height, channels: 3, data: p.rgb }
        }
      )
    const first = await send()
    assert.equal(reads.length, 10, 'the first training reads every photo')
    const again = await send()
    assert.deepEqual(reads.slice(10), [], 'the same strokes again: no photo read, no filter computed')
    assert.deepEqual(again.classifier.forest, first.classifier.forest, 'the kept samples train the same forest')
    await send(0)
    assert.deepEqual(reads.slice(10), ['photo-0'], "one photo's strokes changed: only that photo is read again")
    // the samples a thread keeps are the ones training from the photos themselves takes
    const direct = trainPixelClassifier(photos.map((p, k) => ({ rgb: { width: p.width, height: p.height, channels: 3, data: p.rgb }, strokes: strokes[k] })))
    assert.deepEqual(direct.forest, first.classifier.forest)
  } finally {
    await thread.close()
  }
})

test('a hostile classifier file is refused with a message naming it: a loop between nodes, a wrong feature, not JSON', async () => {
  const dir = tempDir()
  const a = leafPhoto(60, 50)
  const c = trainPixelClassifier([{ rgb: { width: 60, height: 50, channels: 3, data: a.rgb }, strokes: paintStrokes(a.truth, 60, 50) }], {
    forest: { trees: 3 }
  })
  const good = join(dir, 'good.json')
  await writeClassifierFile(good, c)
  const json = JSON.parse((await import('node:fs')).readFileSync(good, 'utf8'))
  const split = json.feature.findIndex((f: number) => f >= 0)
  const cases: [string, (j: any) => unknown, RegExp][] = [
    ['loop.json', (j) => (j.left[split] = 0), /children/],
    ['feature.json', (j) => (j.feature[split] = 999), /feature 999/],
    ['trees.json', (j) => (j.roots = Array(5000).fill(0)), /roots/],
    ['probability.json', (j) => (j.value[j.feature.indexOf(-1)] = 7), /probability 7/]
  ]
  for (const [name, spoil, why] of cases) {
    const j = structuredClone(json)
    spoil(j)
    writeFileSync(join(dir, name), JSON.stringify(j))
    await assert.rejects(readClassifierFile(join(dir, name)), (err: Error) => err.message.startsWith(name) && why.test(err.message))
  }
  writeFileSync(join(dir, 'text.json'), 'not json {')
  await assert.rejects(readClassifierFile(join(dir, 'text.json')), /text\.json is not a pixel classifier.*not JSON/)
})

let service: LeafsegService
let projectDir: string
let datasetId: number
const photoIds: number[] = []

before(async () => {
  service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'strokes')
  await service.api['projects.create']({ dir: projectDir, name: 'Strokes' })
  const src = join(tempDir(), 'photos')
  mkdirSync(src)
  for (let k = 0; k < 6; k++) await writeLeafPhoto(join(src, `leaf-${k}.png`), leafPhoto(120 + 4 * k, 96, { seed: 3 + k }))
  datasetId = (await service.api['datasets.create']({ name: 'Leaves' })).id
  const job = await service.api['datasets.importPhotos']({ datasetId, paths: [src] })
  await service.requireProject().jobs.wait(job.id)
  const { photos } = await service.api['datasets.photos']({ datasetId, offset: 0, limit: 100, filter: {}, sort: 'name' })
  photoIds.push(...photos.map((p) => p.id))
})
after(() => service?.dispose())

test('through the API: strokes saved and read back, a classifier trained, a photo classified, the dataset labelled for review', async () => {
  const api = service.api
  const photo = await api['photos.get']({ id: photoIds[0] })
  const leaf = leafPhoto(120, 96, { seed: 3 })
  const strokes = paintStrokes(leaf.truth, 120, 96)
  const rle = (v: number) =>
    encodeRle(
      strokes.map((s) => (s === v ? 1 : 0)),
      photo.width,
      photo.height
    )
  await assert.rejects(api['labels.trainClassifier']({ datasetId }), /no strokes yet/)
  await assert.rejects(api['labels.classify']({ datasetId }), /no pixel classifier yet/)
  const saved = await api['labels.saveStrokes']({ photoId: photo.id, strokes: { leaf: rle(1), background: rle(2) }, baseVersion: 0 })
  assert.equal(saved.version, 1)
  assert.ok(saved.leafPixels > 0 && saved.backgroundPixels > 0)
  await assert.rejects(api['labels.saveStrokes']({ photoId: photo.id, strokes: { leaf: rle(1), background: rle(2) }, baseVersion: 0 }), /saved elsewhere/)
  const back = await api['labels.strokes']({ photoId: photo.id })
  assert.deepEqual(back.strokes, { leaf: rle(1), background: rle(2) })
  const state = await api['labels.trainClassifier']({ datasetId })
  assert.equal(state.photos, 1)
  assert.equal(state.leafPixels, saved.leafPixels)
  assert.deepEqual(await api['labels.classifier']({ datasetId }), state)
  assert.ok(existsSync(join(projectDir, state.file)))
  const answer = await api['labels.classifyPhoto']({ photoId: photoIds[3] })
  assert.deepEqual(answer.mask.size, [96, 132])

  // a person's mask is kept; the other photos get model-made masks, most unsure first
  const truth3 = leafPhoto(120, 96, { seed: 3 }).truth
  await api['labels.saveMask']({ photoId: photo.id, mask: encodeRle(truth3, 120, 96), how: 'drawn' })
  const job = await api['labels.classify']({ datasetId })
  const done = await service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, 'succeeded', done.error ?? '')
  assert.deepEqual(done.kind === 'classify' && done.result, { labelled: 5, kept: 0, problems: [] })
  const queue = await api['labels.reviewQueue']({ datasetId })
  assert.equal(queue.length, 5)
  assert.ok(queue.every((q) => q.classifier && q.runId === null))
  assert.deepEqual(
    queue.map((q) => q.uncertainty),
    queue.map((q) => q.uncertainty).sort((a, b) => b - a)
  )
  const labelled = await api['photos.get']({ id: queue[0].photoId })
  assert.equal(labelled.mask?.madeBy, 'model-made')
  assert.equal((await api['photos.get']({ id: photo.id })).mask?.madeBy, 'drawn')
  // GrabCut can start from the classifier's probabilities
  const assisted = await api['labels.assist']({ photoId: queue[0].photoId, clicks: [], fromClassifier: true })
  assert.equal(assisted.mask.size[1], labelled.width)

  // clean-up keeps the strokes, the classifier and the probabilities the records name
  const report = await api['projects.clean']({ dryRun: true })
  const strokesFile = (service.requireProject().project.db.prepare('SELECT file FROM strokes').get() as { file: string }).file
  for (const kept of [strokesFile, state.file, `masks/${queue[0].photoId}.classifier.probability.png`])
    assert.ok(!report.items.some((i) => i.path === kept), `${kept} is kept`)
})

test('strokes from an image of 0/1/2 are checked: the wrong size or another value is refused by name, nothing saved', async () => {
  const api = service.api
  const dir = tempDir()
  const photo = await api['photos.get']({ id: photoIds[1] })
  const wrong = join(dir, 'small.png')
  await sharp(Buffer.alloc(10 * 10), { raw: { width: 10, height: 10, channels: 1 } })
    .png()
    .toFile(wrong)
  await assert.rejects(api['labels.importStrokes']({ photoId: photo.id, file: wrong }), /small\.png is 10×10/)
  const odd = join(dir, 'odd.png')
  const data = Buffer.alloc(photo.width * photo.height)
  data[5] = 200
  await sharp(data, { raw: { width: photo.width, height: photo.height, channels: 1 } })
    .png()
    .toFile(odd)
  await assert.rejects(api['labels.importStrokes']({ photoId: photo.id, file: odd }), /odd\.png has the value 200 at x 5, y 0/)
  assert.equal((await api['labels.strokes']({ photoId: photo.id })).version, 0)
  data[5] = 1
  data[photo.width * 10] = 2
  const good = join(dir, 'good.png')
  await sharp(data, { raw: { width: photo.width, height: photo.height, channels: 1 } })
    .png()
    .toFile(good)
  const saved = await api['labels.importStrokes']({ photoId: photo.id, file: good })
  assert.deepEqual([saved.leafPixels, saved.backgroundPixels], [1, 1])
})

test('the classify job can be cancelled', async () => {
  const api = service.api
  const job = await api['labels.classify']({ datasetId })
  await api['jobs.cancel']({ id: job.id })
  const done = await service.requireProject().jobs.wait(job.id)
  assert.ok(done.status === 'cancelled' || done.status === 'succeeded', done.status)
})
