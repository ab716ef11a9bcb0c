// The U-Net of the lab's workflow, with its size as parameters (unet-size.ts), and its losses.
// Browser-safe (pure @tensorflow/tfjs, no node:*): the job process and the GPU worker page build the same
// network from this file.
import * as tf from '@tensorflow/tfjs'
import { checkUnetConfig, type UnetConfig } from './unet-size'

/**
 * Two 3x3 'same' ReLU convs per level, 2x2 max-pool, filters doubling per level, a bridge, a decoder of
 * 2x2 stride-2 transposed convs with skip concatenation, and a 1x1 sigmoid output (probability of leaf).
 * Input: [batch, size, size, 3] RGB in 0..1. Output: [batch, size, size, 1]; with `instances`,
 * [batch, size, size, 2]: leaf, then how far inside its leaf a pixel lies (model/instances.ts).
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
    .conv2d({
      filters: config.instances ? 2 : 1,
      kernelSize: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }),
      name: 'mask'
    })
    .apply(x) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: output, name: 'leafseg_unet' })
}

export type LossName = 'bce' | 'dice' | 'bce+dice'

const EPS = 1e-6

/** Mean binary cross-entropy of probabilities `p` against 0/1 targets `y`. */
export function bceLoss(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const pc = p.clipByValue(1e-7, 1 - 1e-7)
    return y
      .mul(pc.log())
      .add(tf.scalar(1).sub(y).mul(tf.scalar(1).sub(pc).log()))
      .mean()
      .neg() as tf.Scalar
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

/** Channel `c` of an NHWC tensor. */
const channel = (t: tf.Tensor, c: number) => t.slice([0, 0, 0, c], [-1, -1, -1, 1])

/** The leaf channel of a network's output or target (the only channel of a binary network). */
export function leafChannel(t: tf.Tensor): tf.Tensor {
  return t.shape[3] === 1 ? t : channel(t, 0)
}

/**
 * The loss of an instance network: `leafLoss` on the leaf channel, plus binary cross-entropy of the leaf-centre
 * channel against its soft target (each leaf's normalised distance to its border, model/instances.ts), with
 * CENTRE_WEIGHT. The targets' third channel weighs each pixel's cross-entropy (model/instances.ts leafWeights), and
 * the sum is divided by the sum of the weights. Centre targets of -1 (photos whose mask has no leaf instances) are
 * left out.
 */
export function instanceLoss(leafLoss: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar): (y: tf.Tensor, p: tf.Tensor) => tf.Scalar {
  return (y, p) =>
    tf.tidy(() => {
      const yc = channel(y, 1)
      const weight = channel(y, 2).mul(yc.greaterEqual(0).toFloat())
      const target = yc.clipByValue(0, 1)
      const pc = channel(p, 1).clipByValue(1e-7, 1 - 1e-7)
      const bce = target
        .mul(pc.log())
        .add(tf.scalar(1).sub(target).mul(tf.scalar(1).sub(pc).log()))
        .mul(weight)
        .sum()
        .neg()
        .div(weight.sum().maximum(1))
      return leafLoss(channel(y, 0), channel(p, 0)).add(bce.mul(CENTRE_WEIGHT)) as tf.Scalar
    })
}

/** Weight of the leaf-centre term in an instance network's loss. */
export const CENTRE_WEIGHT = 1

/** [tp, fp, fn, tn] of leaf probabilities against 0/1 targets at threshold 0.5, as a 4-vector. */
export function confusionCounts(yAll: tf.Tensor, pAll: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const y = leafChannel(yAll)
    const p = leafChannel(pAll)
    const predicted = p.greaterEqual(0.5).toFloat()
    const tp = predicted.mul(y).sum()
    const fp = predicted.sum().sub(tp)
    const fn = y.sum().sub(tp)
    const tn = tf.scalar(y.size).sub(tp).sub(fp).sub(fn)
    return tf.stack([tp, fp, fn, tn]) as tf.Tensor1D
  })
}
