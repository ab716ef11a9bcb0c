// What the GPU engine tests (WebGL2 in Chromium, WebGPU through Dawn) compare against the CPU backends with: the
// same batches, the same small run, and the error measures.
import assert from 'node:assert/strict'
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { openEngine, type OpenEngine } from '../../src/main/core/model/engine-choice'
import type { WeightSet } from '../../src/main/core/model/engine'
import { loadModel } from '../../src/main/core/model/predict'
import { trainUnet, type TrainOptions } from '../../src/main/core/training/train'
import { streamBatches, type Batch, type Sample } from '../../src/main/core/training/data'

/** The small U-Net every engine test trains. */
export const smallNetwork = { inputSize: 32, baseFilters: 4, depth: 2 }

/** `count` augmented training batches of `size`, as the training loop streams them (epoch after epoch). */
export async function trainingBatches(photos: Sample[], count: number, size: number): Promise<Batch[]> {
  const out: Batch[] = []
  for (let epoch = 1; out.length < count; epoch++)
    for await (const b of streamBatches(photos, { batchSize: size, size: 32, augment: { flips: true, rotate90: true }, seed: 5, epoch }))
      if (out.length < count) out.push(b)
  return out
}

/** A two-epoch run of the small network on photos 0–7, validated on the rest. */
export function smallRun(photos: Sample[], runDir: string, engine: OpenEngine, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    runDir,
    train: photos.slice(0, 8),
    validation: photos.slice(8),
    model: smallNetwork,
    batchSize: 2,
    epochs: 2,
    learningRate: 3e-3,
    loss: 'bce+dice',
    augment: { flips: true },
    seed: 3,
    engine,
    ...extra
  }
}

/** ||a - b|| / ||b|| for one variable's values. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2
    norm += b[i] ** 2
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12)
}

/** A weight set's values by variable name. */
export function byVariable(set: WeightSet): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  let offset = 0
  for (const s of set.specs) {
    const size = s.shape.reduce((a, b) => a * b, 1)
    out.set(s.name, set.data.subarray(offset, offset + size))
    offset += size
  }
  return out
}

/** Every gradient of the small U-Net on `gpu` matches the cpu backend's (relative error under `tolerance`), for each loss. */
export async function assertGradientsMatchCpu(gpu: OpenEngine, photos: Sample[], tolerance: number): Promise<void> {
  const cpu = await openEngine('cpu')
  try {
    const [batch] = await trainingBatches(photos, 1, 2)
    for (const loss of ['bce', 'dice', 'bce+dice'] as const) {
      await gpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 1 }, loss, learningRate: 1e-3 })
      await cpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 1 }, loss, learningRate: 1e-3, weights: await gpu.engine.getWeights() })
      const onGpu = byVariable(await gpu.engine.gradients(batch.x, batch.y, batch.n))
      const onCpu = byVariable(await cpu.engine.gradients(batch.x, batch.y, batch.n))
      assert.deepEqual([...onGpu.keys()], [...onCpu.keys()])
      // Every layer kind has a variable: 3x3 convs, 2x2 transposed convs (up*), the 1x1 sigmoid output; pooling
      // and concatenation have none, but every gradient below them passes through their backward pass.
      for (const name of ['down0_conv1/kernel', 'bridge_conv2/kernel', 'up1/kernel', 'up0/bias', 'up0_conv1/kernel', 'mask/kernel'])
        assert.ok(onGpu.has(name), name)
      for (const [name, g] of onGpu) {
        const error = relativeError(g, onCpu.get(name)!)
        assert.ok(error < tolerance, `${loss}: the gradient of ${name} differs by ${error.toExponential(2)} (relative)`)
      }
    }
  } finally {
    await cpu.close()
  }
}

/** 20 training steps on `gpu` give the loss curve of wasm from the same weights and batches, and the loss goes down. */
export async function assertLossCurveMatchesWasm(gpu: OpenEngine, photos: Sample[]): Promise<void> {
  const wasm = await openEngine('wasm')
  try {
    await gpu.engine.build({ network: { kind: 'unet', size: smallNetwork, seed: 2 }, loss: 'bce+dice', learningRate: 3e-3 })
    await wasm.engine.build({
      network: { kind: 'unet', size: smallNetwork, seed: 2 },
      loss: 'bce+dice',
      learningRate: 3e-3,
      weights: await gpu.engine.getWeights()
    })
    const curves = { gpu: [] as number[], wasm: [] as number[] }
    for (const b of await trainingBatches(photos, 20, 2)) {
      curves.gpu.push((await gpu.engine.trainStep(b.x, b.y, b.n)).loss)
      curves.wasm.push((await wasm.engine.trainStep(b.x, b.y, b.n)).loss)
    }
    const worst = Math.max(...curves.gpu.map((l, i) => Math.abs(l - curves.wasm[i])))
    assert.ok(worst < 1e-4, `the loss curves differ by up to ${worst}: ${JSON.stringify(curves)}`)
    assert.ok(curves.gpu[19] < curves.gpu[0], 'the loss went down')
  } finally {
    await wasm.close()
  }
}

/**
 * A checkpoint trained on `gpu` predicts the same masks on wasm; and a wasm run's second epoch on `gpu` gives the
 * losses and metrics of the same epoch on wasm from a copy, so the weights and Adam's state crossed intact.
 */
export async function assertCheckpointsCross(gpu: OpenEngine, backend: 'webgl' | 'webgpu', root: string, photos: Sample[]): Promise<void> {
  const runDir = join(root, `on-${backend}`)
  const result = await trainUnet(smallRun(photos, runDir, gpu))
  assert.equal(result.backend.backend, backend)
  const x = (await trainingBatches(photos, 1, 4))[0]
  const onWasm = await loadModel(join(runDir, 'best'), 'wasm')
  const onGpu = await loadModel(join(runDir, 'best'), backend)
  const [p, q] = [await onWasm.predictBatch(x.x, x.n), await onGpu.predictBatch(x.x, x.n)]
  onWasm.dispose()
  onGpu.dispose()
  let differing = 0
  let worst = 0
  for (let i = 0; i < p.length; i++) {
    if (p[i] >= 0.5 !== q[i] >= 0.5) differing++
    worst = Math.max(worst, Math.abs(p[i] - q[i]))
  }
  assert.ok(differing <= p.length * 1e-3, `${differing} of ${p.length} mask pixels differ`)
  assert.ok(worst < 1e-3, `probabilities differ by up to ${worst}`)

  const wasm = await openEngine('wasm')
  try {
    const reverseDir = join(root, `wasm-then-${backend}`)
    await trainUnet(smallRun(photos, reverseDir, wasm, { epochs: 1 }))
    await cp(reverseDir, `${reverseDir}-copy`, { recursive: true })
    const onGpuRun = await trainUnet(smallRun(photos, reverseDir, gpu, { resume: true }))
    const onCpuRun = await trainUnet(smallRun(photos, `${reverseDir}-copy`, wasm, { resume: true }))
    assert.equal(onGpuRun.resumedAfterEpoch, 1)
    assert.equal(onGpuRun.optimizerRestored, true)
    assert.deepEqual(
      onGpuRun.history.map((e) => e.epoch),
      [1, 2]
    )
    const [g, c] = [onGpuRun.history[1], onCpuRun.history[1]]
    assert.ok(Math.abs(g.train.loss - c.train.loss) < 1e-4, `epoch 2 train loss: ${g.train.loss} on ${backend}, ${c.train.loss} on wasm`)
    assert.ok(Math.abs(g.validation.iou - c.validation.iou) < 1e-3, `epoch 2 validation IoU: ${g.validation.iou} on ${backend}, ${c.validation.iou} on wasm`)
  } finally {
    await wasm.close()
  }
}
