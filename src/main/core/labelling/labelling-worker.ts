// The labelling area's worker thread (labelling-thread.ts starts it): GrabCut proposals, with one photo's state
// kept between clicks, and the decoding and checking of a save's masks. Heavy work here leaves the host's own
// thread free to answer other requests meanwhile.
import { parentPort } from 'node:worker_threads'
import { decodeLeaves, decodeRle, encodeRle } from '../../../shared/rle'
import { GrabCutAssist } from './grabcut'
import type { FromLabellingWorker, PixelPhoto, ToLabellingWorker } from './labelling-thread'
import {
  classifyPixels,
  photoFeatures,
  strokeSamples,
  trainPixelClassifier,
  type PhotoFeatures,
  type PixelClassifier,
  type StrokeSamples
} from './pixel-classifier'
import { readClassifierFile } from './classifier-files'
import { defaultSigmas } from './pixel-features'
import { unsureBand } from './grabcut'

const port = parentPort!
let assist: { key: string; grabCut: GrabCutAssist } | null = null

// The features of the last photos the pixel classifier saw (a person strokes one photo, then the next): the
// filters are most of a prediction's time. Bounded by photos and by values held.
const featuresKept = new Map<string, PhotoFeatures>()
const maxKeptPhotos = 8
const maxKeptValues = 200_000_000
let classifier: { key: string; classifier: PixelClassifier } | null = null
// The training samples of each photo's strokes as last trained on (small: a few thousand rows a photo), so a retrain
// computes filters only for the photos whose strokes changed, however many photos have strokes.
const samplesKept = new Map<string, StrokeSamples>()
const maxKeptSamples = 400

/** The photo and its strokes' content, as the samples' key (the strokes change with every save). */
function samplesKey(p: PixelPhoto & { strokes: Uint8Array }): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < p.strokes.length; i++) hash = Math.imul(hash ^ p.strokes[i], 0x01000193)
  return JSON.stringify([p.key, p.strokes.length, hash >>> 0])
}

function featuresOf(p: PixelPhoto, sigmas: readonly number[], maxFeaturePixels?: number): PhotoFeatures | null {
  const key = JSON.stringify([p.key, sigmas, maxFeaturePixels ?? null])
  let f = featuresKept.get(key)
  if (f) featuresKept.delete(key)
  else if (p.photo) f = photoFeatures(p.photo, sigmas, maxFeaturePixels)
  else return null
  featuresKept.set(key, f)
  let values = 0
  for (const k of featuresKept.values()) values += k.features.data.length
  while (featuresKept.size > maxKeptPhotos || (featuresKept.size > 1 && values > maxKeptValues)) {
    const oldest = featuresKept.keys().next().value!
    values -= featuresKept.get(oldest)!.features.data.length
    featuresKept.delete(oldest)
  }
  return f
}

async function answerPixels(m: Extract<ToLabellingWorker, { kind: 'train' | 'classify' }>): Promise<FromLabellingWorker> {
  if (m.kind === 'train') {
    const started = performance.now()
    const keys = m.photos.map(samplesKey)
    const features = m.photos.map((p, k) => (samplesKept.has(keys[k]) ? null : featuresOf(p, defaultSigmas)))
    const missing = m.photos.filter((p, k) => !samplesKept.has(keys[k]) && !features[k]).map((p) => p.key)
    if (missing.length) return { id: m.id, kind: 'missing', keys: missing }
    const samples = m.photos.map((p, k) => {
      const kept = samplesKept.get(keys[k]) ?? strokeSamples(features[k]!, p.strokes)
      samplesKept.delete(keys[k])
      samplesKept.set(keys[k], kept)
      return kept
    })
    while (samplesKept.size > maxKeptSamples) samplesKept.delete(samplesKept.keys().next().value!)
    const trained = trainPixelClassifier(samples)
    return { id: m.id, kind: 'train', classifier: trained, ms: Math.round(performance.now() - started) }
  }
  if (classifier?.key !== m.classifierKey) classifier = { key: m.classifierKey, classifier: await readClassifierFile(m.classifierFile) }
  const c = classifier.classifier
  const features = featuresOf(m.photo, c.sigmas, c.maxFeaturePixels)
  if (!features) return { id: m.id, kind: 'missing', keys: [m.photo.key] }
  const p = classifyPixels(c, features)
  const mask = new Uint8Array(p.length)
  const unsure = new Uint8Array(p.length)
  const probabilities = new Uint8Array(p.length)
  for (let i = 0; i < p.length; i++) {
    mask[i] = p[i] >= 0.5 ? 1 : 0
    unsure[i] = p[i] >= unsureBand.low && p[i] <= unsureBand.high ? 1 : 0
    probabilities[i] = p[i] >= 1 ? 255 : Math.floor(p[i] * 256)
  }
  const { width, height } = m.photo
  return { id: m.id, kind: 'classify', mask: encodeRle(mask, width, height), unsure: encodeRle(unsure, width, height), probabilities }
}

function answer(m: Exclude<ToLabellingWorker, { kind: 'train' | 'classify' }>): FromLabellingWorker {
  if (m.kind === 'assist') {
    if (m.photo) {
      assist?.grabCut.dispose()
      assist = null
      assist = { key: m.key, grabCut: new GrabCutAssist(m.photo) }
    }
    if (!assist || assist.key !== m.key) throw new Error('internal: the assist thread does not have the photo')
    const mask = assist.grabCut.propose(m.start, m.clicks)
    return { id: m.id, kind: 'assist', mask: encodeRle(mask, assist.grabCut.photo.width, assist.grabCut.photo.height) }
  }
  const binary = decodeRle(m.mask)
  const ids = m.leaves ? decodeLeaves(m.leaves, m.width, m.height) : null
  const differ = ids ? ids.findIndex((v, i) => (v !== 0) !== (binary[i] !== 0)) : -1
  return { id: m.id, kind: 'decode', binary, ids, differ }
}

// one message at a time, in order: a classification waits for the training before it
let queue: Promise<void> = Promise.resolve()
port.on('message', (m: ToLabellingWorker) => {
  queue = queue.then(() => handle(m))
})

async function handle(m: ToLabellingWorker): Promise<void> {
  let reply: FromLabellingWorker
  try {
    reply = m.kind === 'train' || m.kind === 'classify' ? await answerPixels(m) : answer(m)
  } catch (err) {
    // a failed assist keeps no photo: the next request sends it again
    if (m.kind === 'assist') {
      assist?.grabCut.dispose()
      assist = null
    }
    reply = { id: m.id, kind: 'error', message: err instanceof Error ? err.message : String(err) }
  }
  const transfer =
    reply.kind === 'decode' ? [reply.binary.buffer, ...(reply.ids ? [reply.ids.buffer] : [])] : reply.kind === 'classify' ? [reply.probabilities.buffer] : []
  port.postMessage(reply, transfer as ArrayBuffer[])
}
