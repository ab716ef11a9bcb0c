// One worker thread of the data-parallel wasm engine (worker-pool.ts): its own tfjs wasm instance and a copy
// of the network, fed its share of each batch. Workers meet at barriers on shared memory (Atomics) inside a
// step, to exchange the network's outputs and to add their gradients; the pool sets the abort flag when one
// of them fails, so the others stop waiting.
import { parentPort, workerData } from 'node:worker_threads'
import { initBackend } from './backend'
import { TfjsEngine } from './engine'
import { CONTROL, type PoolWorkerData, type ToPoolWorker } from './worker-protocol'

const { index, workers, wasmDir, control } = workerData as PoolWorkerData
const ctl = new Int32Array(control)
const port = parentPort!

class Aborted extends Error {}

/** Wait until every worker arrives (a generation counter, so the same words serve every barrier). */
function barrier(): void {
  const generation = Atomics.load(ctl, CONTROL.generation)
  if (Atomics.add(ctl, CONTROL.arrived, 1) === workers - 1) {
    Atomics.store(ctl, CONTROL.arrived, 0)
    Atomics.add(ctl, CONTROL.generation, 1)
    Atomics.notify(ctl, CONTROL.generation)
    return
  }
  while (Atomics.load(ctl, CONTROL.generation) === generation) {
    if (Atomics.load(ctl, CONTROL.abort)) throw new Aborted('another training worker failed')
    Atomics.wait(ctl, CONTROL.generation, generation, 200)
  }
}

const engine = new TfjsEngine()
let gradientSlots: Float32Array | null = null
let gradientSum: Float32Array | null = null

async function handle(msg: ToPoolWorker): Promise<unknown> {
  if (msg.type === 'call') {
    const value = await (engine[msg.call] as (...args: unknown[]) => Promise<unknown>)(...msg.args)
    if (msg.call !== 'build') return value
    return { ...(value as object), parameters: engine.parameterCount(), outputValuesPerImage: engine.outputValuesPerImage() }
  }
  if (msg.type === 'gradientBuffers') {
    gradientSlots = new Float32Array(msg.slots)
    gradientSum = new Float32Array(msg.sum)
    return null
  }
  const { mode, offset, n, total } = msg
  const x = new Float32Array(msg.x, offset * msg.inputValuesPerImage * 4, n * msg.inputValuesPerImage).slice()
  const y = new Float32Array(msg.y).slice()
  const outputs = new Float32Array(msg.outputs)
  const { result, gradients } = engine.shardStep(mode, x, y, n, offset, total, {
    gather(mine) {
      outputs.set(mine, offset * (outputs.length / total))
      barrier()
      return outputs.slice()
    },
    reduce(grads) {
      const size = grads.length
      gradientSlots!.set(grads, index * size)
      barrier()
      // Each worker adds up its own stretch of the variables, in worker order; then every worker reads the whole sum.
      const from = Math.floor((index * size) / workers)
      const to = Math.floor(((index + 1) * size) / workers)
      for (let i = from; i < to; i++) {
        let sum = gradientSlots![i]
        for (let k = 1; k < workers; k++) sum += gradientSlots![k * size + i]
        gradientSum![i] = sum
      }
      barrier()
      return gradientSum!.slice()
    }
  })
  return index === 0 ? { result, gradients } : null
}

let queue: Promise<void> = Promise.resolve()
port.on('message', (msg: ToPoolWorker) => {
  queue = queue.then(async () => {
    try {
      port.postMessage({ id: msg.id, value: await handle(msg) })
    } catch (err) {
      if (msg.type === 'shard') {
        Atomics.store(ctl, CONTROL.abort, 1)
        Atomics.notify(ctl, CONTROL.generation)
      }
      port.postMessage({ id: msg.id, error: (err as Error).message, aborted: err instanceof Aborted })
    }
  })
})

try {
  const info = await initBackend({ force: 'wasm', wasmDir })
  port.postMessage({ ready: true, device: info.device })
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message })
}
