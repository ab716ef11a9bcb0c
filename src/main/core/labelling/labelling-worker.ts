// The labelling area's worker thread (labelling-thread.ts starts it): GrabCut proposals, with one photo's state
// kept between clicks, and the decoding and checking of a save's masks. Heavy work here leaves the host's own
// thread free to answer other requests meanwhile.
import { parentPort } from 'node:worker_threads'
import { decodeLeaves, decodeRle, encodeRle } from '../../../shared/rle'
import { GrabCutAssist } from './grabcut'
import type { FromLabellingWorker, ToLabellingWorker } from './labelling-thread'

const port = parentPort!
let assist: { key: string; grabCut: GrabCutAssist } | null = null

function answer(m: ToLabellingWorker): FromLabellingWorker {
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

port.on('message', (m: ToLabellingWorker) => {
  let reply: FromLabellingWorker
  try {
    reply = answer(m)
  } catch (err) {
    // a failed assist keeps no photo: the next request sends it again
    if (m.kind === 'assist') {
      assist?.grabCut.dispose()
      assist = null
    }
    reply = { id: m.id, kind: 'error', message: err instanceof Error ? err.message : String(err) }
  }
  const transfer = reply.kind === 'decode' ? [reply.binary.buffer, ...(reply.ids ? [reply.ids.buffer] : [])] : []
  port.postMessage(reply, transfer as ArrayBuffer[])
})
