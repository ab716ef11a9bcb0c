// The labelling area's heavy work on a worker thread (labelling-worker.ts): GrabCut proposals and the decoding of
// a save's masks (RLE of up to 255 leaves over a 4000×3000 photo takes seconds). The host's thread only sends
// and receives, so it answers other requests meanwhile. Each LabellingThread is one thread, answering in order;
// it is started on first use, and does not keep the process alive while idle.
import { Worker } from 'node:worker_threads'
import { threadEntry } from '../jobs/thread-entry'
import type { AssistClick } from '../../../shared/api/labelling'
import type { Rle } from '../../../shared/rle'
import type { Raster } from '../imaging/raster'
import type { AssistStart } from './grabcut'
import type { PixelClassifier } from './pixel-classifier'

/** A photo for the pixel classifier: its key (it changes when the photo does), and its pixels unless the thread may hold its features. */
export interface PixelPhoto {
  key: string
  width: number
  height: number
  photo?: Raster
}

export type ToLabellingWorker =
  | { id: number; kind: 'assist'; key: string; photo?: Raster; start: AssistStart; clicks: AssistClick[] }
  | { id: number; kind: 'decode'; mask: Rle; leaves?: Rle[]; width: number; height: number }
  | { id: number; kind: 'train'; photos: (PixelPhoto & { strokes: Uint8Array })[] }
  | { id: number; kind: 'classify'; classifierFile: string; classifierKey: string; photo: PixelPhoto }

export type FromLabellingWorker =
  | { id: number; kind: 'assist'; mask: Rle }
  | { id: number; kind: 'train'; classifier: PixelClassifier; ms: number }
  | { id: number; kind: 'classify'; mask: Rle; unsure: Rle; probabilities: Uint8Array }
  | { id: number; kind: 'missing'; keys: string[] }
  | { id: number; kind: 'decode'; binary: Uint8Array; ids: Uint16Array | null; differ: number }
  | { id: number; kind: 'error'; message: string }

type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never

export class LabellingThread {
  private worker: Worker | null = null
  private readonly waiting = new Map<number, { resolve(m: FromLabellingWorker): void; reject(err: Error): void }>()
  private nextId = 1
  /** The photo the thread's assist holds (its key), as far as this side knows. */
  private photoKey: string | null = null

  private send(message: Unsent<ToLabellingWorker>): Promise<FromLabellingWorker> {
    const worker = this.worker ?? this.start()
    const id = this.nextId++
    // busy: keep the process alive until the answer comes
    if (this.waiting.size === 0) worker.ref()
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      worker.postMessage({ ...message, id })
    })
  }

  private start(): Worker {
    const entry = threadEntry('labelling-worker', new URL('./labelling-worker.ts', import.meta.url), import.meta.url)
    const worker = new Worker(entry.script, { eval: entry.eval, execArgv: [] })
    worker.unref()
    worker.on('message', (m: FromLabellingWorker) => {
      const w = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      if (this.waiting.size === 0) worker.unref()
      w?.resolve(m)
    })
    const fail = (err: Error) => {
      if (this.worker !== worker) return
      this.worker = null
      this.photoKey = null
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
    }
    worker.on('error', (err) => fail(new Error(`The labelling thread failed: ${err.message}`)))
    worker.on('exit', (code) => fail(new Error(`The labelling thread stopped (exit code ${code}).`)))
    this.worker = worker
    return worker
  }

  /**
   * GrabCut's proposal for the photo `key` (it changes when the photo does); `read` gives its RGB pixels, asked
   * for only when the thread does not hold them already.
   */
  async propose(key: string, read: () => Promise<Raster>, start: AssistStart, clicks: AssistClick[]): Promise<Rle> {
    let photo: Raster | undefined
    while (this.photoKey !== key && !photo) photo = await read()
    // from here to the send nothing waits, so no other request's photo slips in between
    const withPhoto = this.photoKey !== key
    this.photoKey = key
    const reply = await this.send({ kind: 'assist', key, photo: withPhoto ? photo : undefined, start, clicks })
    if (reply.kind === 'error') {
      if (this.photoKey === key) this.photoKey = null
      throw new Error(reply.message)
    }
    if (reply.kind !== 'assist') throw new Error('internal: the labelling thread answered an assist with something else')
    return reply.mask
  }

  /** A save's mask and leaves decoded; `differ` is the first pixel where the leaves' union is not the mask (-1: none). */
  async decode(mask: Rle, leaves: Rle[] | undefined, width: number, height: number): Promise<{ binary: Uint8Array; ids: Uint16Array | null; differ: number }> {
    const reply = await this.send({ kind: 'decode', mask, leaves, width, height })
    if (reply.kind === 'error') throw new Error(reply.message)
    if (reply.kind !== 'decode') throw new Error('internal: the labelling thread answered a decode with something else')
    return reply
  }

  /**
   * Train a pixel classifier from photos and their strokes. The thread keeps the features of the last few photos:
   * `read` gives a photo's pixels only when it asks for them.
   */
  async train(
    photos: (Omit<PixelPhoto, 'photo'> & { strokes: Uint8Array })[],
    read: (key: string) => Promise<Raster>
  ): Promise<{ classifier: PixelClassifier; ms: number }> {
    let sent: (PixelPhoto & { strokes: Uint8Array })[] = photos
    for (let attempt = 0; attempt < 3; attempt++) {
      const reply = await this.send({ kind: 'train', photos: sent })
      if (reply.kind === 'error') throw new Error(reply.message)
      if (reply.kind === 'train') return reply
      if (reply.kind !== 'missing') throw new Error('internal: the labelling thread answered a training with something else')
      const missing = new Set(reply.keys)
      sent = await Promise.all(photos.map(async (p) => (missing.has(p.key) ? { ...p, photo: await read(p.key) } : p)))
    }
    throw new Error('internal: the labelling thread kept asking for photos')
  }

  /** P(leaf) of one photo by the classifier in `classifierFile` (read again when `classifierKey` changes). */
  async classify(
    classifierFile: string,
    classifierKey: string,
    photo: Omit<PixelPhoto, 'photo'>,
    read: () => Promise<Raster>
  ): Promise<{ mask: Rle; unsure: Rle; probabilities: Uint8Array }> {
    let reply = await this.send({ kind: 'classify', classifierFile, classifierKey, photo })
    if (reply.kind === 'missing') reply = await this.send({ kind: 'classify', classifierFile, classifierKey, photo: { ...photo, photo: await read() } })
    if (reply.kind === 'error') throw new Error(reply.message)
    if (reply.kind !== 'classify') throw new Error('internal: the labelling thread answered a classification with something else')
    return reply
  }

  /** Stop the thread (a later call starts a new one). */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    this.photoKey = null
    if (worker) await worker.terminate()
  }
}
