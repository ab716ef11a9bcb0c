// The U-Net's size: its parameters, the presets, and what training it needs in memory. No tfjs here, so the
// main process can check a configuration without loading it.

export interface UnetConfig {
  /** Square input side in pixels; must be divisible by 2^depth. */
  inputSize: number
  /** Filters of the first level; each level down doubles them. */
  baseFilters: number
  /** Number of pooling steps (levels above the bridge). */
  depth: number
  /**
   * Leaf instances: a second output channel, the probability of the band where a leaf touches another leaf, from
   * which the leaves are told apart (model/instances.ts). Absent on binary networks.
   */
  instances?: boolean
}

export const UNET_PRESETS = {
  /** The published network: 256 px, 64-128-256-512, bridge 1024. */
  seed: { inputSize: 256, baseFilters: 64, depth: 4 },
  /** Small enough to train on a CPU in minutes per epoch. */
  'fast-cpu': { inputSize: 128, baseFilters: 16, depth: 4 },
  /** Fast CPU's network on 96 px crops of the photo at its own scale, separating leaves. */
  'leaves-cpu': { inputSize: 96, baseFilters: 16, depth: 4 }
} as const satisfies Record<string, UnetConfig>

export type UnetPreset = keyof typeof UNET_PRESETS

export function checkUnetConfig(config: UnetConfig): void {
  const { inputSize, baseFilters, depth } = config
  if (!Number.isInteger(depth) || depth < 1 || depth > 6) throw new Error(`The U-Net depth must be a whole number from 1 to 6 (got ${depth}).`)
  if (!Number.isInteger(baseFilters) || baseFilters < 1) throw new Error(`The U-Net base filter count must be a positive whole number (got ${baseFilters}).`)
  if (!Number.isInteger(inputSize) || inputSize % 2 ** depth !== 0 || inputSize < 2 ** depth)
    throw new Error(`The U-Net input size must be a multiple of ${2 ** depth} for depth ${depth} (got ${inputSize}).`)
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

/**
 * Elements of the largest tensor one training step creates: a layer output, or a 3x3 conv's im2col matrix
 * (batch × side² × 9·inC), which is how the WebGL backend runs a conv. The WebGL backend stores a tensor
 * in one texture (packed: 2×2 values a texel), so this bounds the batch by the GPU's texture size limit.
 */
export function largestTensorElements(config: UnetConfig, batchSize: number): number {
  const { convs } = unetSizes(config)
  let largest = 0
  for (const { side, inC, outC } of convs) largest = Math.max(largest, side * side * 9 * inC, side * side * 2 * outC)
  return largest * batchSize
}
