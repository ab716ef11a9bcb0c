// The U-Net of the lab's workflow, with its size as parameters, its losses, and a memory estimate.
import os from 'node:os'
import { tf, type BackendName } from './backend'

export interface UnetConfig {
  /** Square input side in pixels; must be divisible by 2^depth. */
  inputSize: number
  /** Filters of the first level; each level down doubles them. */
  baseFilters: number
  /** Number of pooling steps (levels above the bridge). */
  depth: number
}

export const UNET_PRESETS = {
  /** The published network: 256 px, 64-128-256-512, bridge 1024. */
  seed: { inputSize: 256, baseFilters: 64, depth: 4 },
  /** Small enough to train on a CPU in minutes per epoch. */
  'fast-cpu': { inputSize: 128, baseFilters: 16, depth: 4 }
} as const satisfies Record<string, UnetConfig>

export type UnetPreset = keyof typeof UNET_PRESETS

export function checkUnetConfig(config: UnetConfig): void {
  const { inputSize, baseFilters, depth } = config
  if (!Number.isInteger(depth) || depth < 1 || depth > 6) throw new Error(`The U-Net depth must be a whole number from 1 to 6 (got ${depth}).`)
  if (!Number.isInteger(baseFilters) || baseFilters < 1) throw new Error(`The U-Net base filter count must be a positive whole number (got ${baseFilters}).`)
  if (!Number.isInteger(inputSize) || inputSize % 2 ** depth !== 0 || inputSize < 2 ** depth)
    throw new Error(`The U-Net input size must be a multiple of ${2 ** depth} for depth ${depth} (got ${inputSize}).`)
}

/**
 * Two 3x3 'same' ReLU convs per level, 2x2 max-pool, filters doubling per level, a bridge, a decoder of
 * 2x2 stride-2 transposed convs with skip concatenation, and a 1x1 sigmoid output (probability of leaf).
 * Input: [batch, size, size, 3] RGB in 0..1. Output: [batch, size, size, 1].
 */
export function buildUnet(config: UnetConfig, seed = 1): tf.LayersModel {
  checkUnetConfig(config)
  const { inputSize, baseFilters, depth } = config
  let layerSeed = seed * 1000
  const conv = (filters: number, name: string) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed: layerSeed++ }),
      name
    })
  const block = (x: tf.SymbolicTensor, filters: number, name: string) =>
    conv(filters, `${name}_conv2`).apply(conv(filters, `${name}_conv1`).apply(x)) as tf.SymbolicTensor

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' })
  const skips: tf.SymbolicTensor[] = []
  let x = input
  for (let level = 0; level < depth; level++) {
    x = block(x, baseFilters * 2 ** level, `down${level}`)
    skips.push(x)
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${level}` }).apply(x) as tf.SymbolicTensor
  }
  x = block(x, baseFilters * 2 ** depth, 'bridge')
  for (let level = depth - 1; level >= 0; level--) {
    const filters = baseFilters * 2 ** level
    const up = tf.layers
      .conv2dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        kernelInitializer: tf.initializers.heNormal({ seed: layerSeed++ }),
        name: `up${level}`
      })
      .apply(x) as tf.SymbolicTensor
    x = tf.layers.concatenate({ axis: -1, name: `concat${level}` }).apply([up, skips[level]]) as tf.SymbolicTensor
    x = block(x, filters, `up${level}`)
  }
  const output = tf.layers
    .conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }), name: 'mask' })
    .apply(x) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: output, name: 'leafseg_unet' })
}

export type LossName = 'bce' | 'dice' | 'bce+dice'

const EPS = 1e-6

/** Mean binary cross-entropy of probabilities `p` against 0/1 targets `y`. */
export function bceLoss(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const pc = p.clipByValue(1e-7, 1 - 1e-7)
    return y.mul(pc.log()).add(tf.scalar(1).sub(y).mul(tf.scalar(1).sub(pc).log())).mean().neg() as tf.Scalar
  })
}

/** Soft Dice loss pooled over every pixel of the batch: 1 - 2|P∩Y| / (|P| + |Y|). */
export function diceLoss(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const intersection = y.mul(p).sum()
    const total = y.sum().add(p.sum())
    return tf.scalar(1).sub(intersection.mul(2).add(EPS).div(total.add(EPS))) as tf.Scalar
  })
}

export function lossFunction(name: LossName): (y: tf.Tensor, p: tf.Tensor) => tf.Scalar {
  if (name === 'bce') return bceLoss
  if (name === 'dice') return diceLoss
  return (y, p) => tf.tidy(() => bceLoss(y, p).add(diceLoss(y, p)) as tf.Scalar)
}

/** Activation floats one image needs on the forward pass (every layer output), parameters, and each 3x3 conv. */
export function unetSizes(config: UnetConfig): { activations: number; parameters: number; convs: Array<{ side: number; inC: number; outC: number }> } {
  const { inputSize: s, baseFilters: f, depth } = config
  let activations = s * s * 3
  let parameters = 0
  const convs: Array<{ side: number; inC: number; outC: number }> = []
  const block = (side: number, inC: number, outC: number) => {
    convs.push({ side, inC, outC }, { side, inC: outC, outC })
    parameters += 9 * inC * outC + outC + 9 * outC * outC + outC
    activations += side * side * outC * 2 * 2 // two convs, each before and after its ReLU
  }
  let inC = 3
  for (let level = 0; level < depth; level++) {
    const side = s / 2 ** level
    const c = f * 2 ** level
    block(side, inC, c)
    activations += (side / 2) * (side / 2) * c // pool
    inC = c
  }
  block(s / 2 ** depth, inC, f * 2 ** depth)
  inC = f * 2 ** depth
  for (let level = depth - 1; level >= 0; level--) {
    const side = s / 2 ** level
    const c = f * 2 ** level
    activations += side * side * c * 3 // up-conv and the concatenation
    parameters += 4 * inC * c + c
    block(side, 2 * c, c)
    inC = c
  }
  activations += s * s * 2
  parameters += inC + 1
  return { activations, parameters, convs }
}

/** Heap the wasm backend can address (4 GiB, less room for the runtime and fragmentation). */
export const WASM_HEAP_LIMIT_BYTES = 3.5 * 2 ** 30

/**
 * Bytes that training this configuration needs at its peak: the forward activations kept for the backward
 * pass with their gradients and temporaries (2.7x the activations), the parameters with their gradients and
 * two Adam moments, the largest filter-gradient im2col buffer (bounded to 256 MiB unless one image needs
 * more), plus 30 % for heap growth and fragmentation. Calibrated on the wasm heap size after a training
 * step: fast-cpu batch 8: 0.67 GiB (estimate 0.87), seed batch 1: 2.3 GiB (2.4), seed batch 2: 3.2 GiB (3.4).
 */
export function estimateTrainingBytes(config: UnetConfig, batchSize: number): number {
  const { activations, parameters, convs } = unetSizes(config)
  let im2col = 0
  for (const { side, inC, outC } of convs) {
    const perImage = 9 * inC * (side + 2) ** 2
    const images = Math.max(1, Math.min(batchSize, Math.floor((64 * 2 ** 20) / perImage)))
    im2col = Math.max(im2col, (perImage + (inC + outC) * (side + 2) ** 2) * images * 4)
  }
  return 1.3 * (activations * 4 * 2.7 * batchSize + parameters * 4 * 4 + im2col)
}

export interface FitCheck {
  fits: boolean
  bytes: number
  limitBytes: number
  /** The largest batch that fits, 0 when not even one image does. */
  largestBatch: number
  message?: string
}

/** Whether training fits the backend's memory: wasm is limited to its 4 GiB heap, others to 70 % of RAM (GPU memory is not checked). */
export function checkTrainingFits(config: UnetConfig, batchSize: number, backend: BackendName): FitCheck {
  const bytes = estimateTrainingBytes(config, batchSize)
  const limitBytes = backend === 'wasm' ? WASM_HEAP_LIMIT_BYTES : os.totalmem() * 0.7
  let largestBatch = 0
  while (largestBatch < 1024 && estimateTrainingBytes(config, largestBatch + 1) <= limitBytes) largestBatch++
  const fits = bytes <= limitBytes
  const gib = (b: number) => (b / 2 ** 30).toFixed(1)
  const message = fits
    ? undefined
    : `Training a ${config.inputSize} px U-Net with ${config.baseFilters} base filters and depth ${config.depth} at batch size ${batchSize} ` +
      `needs about ${gib(bytes)} GiB, more than the ${gib(limitBytes)} GiB the ${backend} backend can use. ` +
      (largestBatch > 0
        ? `A batch size of ${largestBatch} or less would fit.`
        : 'Not even one image fits: choose a smaller input size or fewer base filters.')
  return { fits, bytes, limitBytes, largestBatch, message }
}
