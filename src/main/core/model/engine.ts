// Where the maths of training and prediction runs. The training loop, evaluation and prediction talk to a
// TrainingEngine; TfjsEngine runs it on the tfjs backend of its own JavaScript realm (the job process's
// tensorflow/wasm/cpu backend, or the GPU worker page's WebGL/WebGPU backend: the page serves this very class).
// Browser-safe: pure @tensorflow/tfjs, no node:*.
import * as tf from '@tensorflow/tfjs'
import type { EngineCall, EngineCalls, EngineSetup, StepResult, WeightSet } from '../../../shared/gpu-worker'
import { buildUnet, confusionCounts, instanceLoss, lossFunction } from './unet'

export type { EngineSetup, StepResult, WeightSet }

/** Every engine call, asynchronous (a remote engine answers over a message port). */
export type TrainingEngine = { [C in EngineCall]: (...args: EngineCalls[C]['args']) => Promise<EngineCalls[C]['result']> }

/** Named tensors (tfjs's own NamedTensor shape) as one flat float32 buffer. Tensors are not disposed. */
export async function packWeights(named: Array<{ name: string; tensor: tf.Tensor }>): Promise<WeightSet> {
  const specs = named.map((w) => ({ name: w.name, shape: [...w.tensor.shape] }))
  const data = new Float32Array(named.reduce((sum, w) => sum + w.tensor.size, 0))
  let offset = 0
  for (const w of named) {
    data.set(await w.tensor.data(), offset)
    offset += w.tensor.size
  }
  return { specs, data }
}

/** A WeightSet as float32 tensors, in its order (the caller disposes them). */
export function unpackWeights(set: WeightSet): Array<{ name: string; tensor: tf.Tensor }> {
  let offset = 0
  return set.specs.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1)
    if (offset + size > set.data.length) throw new Error(`The weights end before ${s.name} (${set.data.length} values for more than ${offset + size}).`)
    const tensor = tf.tensor(set.data.subarray(offset, offset + size), s.shape, 'float32')
    offset += size
    return { name: s.name, tensor }
  })
}

/** Put `set` into the model's variables, matched by name, checking that every variable gets a value of its shape. */
export function assignWeights(model: tf.LayersModel, set: WeightSet): void {
  const named = unpackWeights(set)
  try {
    const byName = new Map(named.map((w) => [w.name, w.tensor]))
    const values = model.weights.map((w) => {
      const t = byName.get(w.originalName)
      if (!t) throw new Error(`The weights have no ${w.originalName}.`)
      if (t.shape.join('x') !== w.shape.join('x'))
        throw new Error(`${w.originalName} has shape ${t.shape.join('×')} in the weights but ${w.shape.join('×')} in the network.`)
      return t
    })
    model.setWeights(values)
  } finally {
    tf.dispose(named.map((w) => w.tensor)) // the variables keep their own references
  }
}

/** The model's variables by their saved names (as tfjs's layers format names them). */
export function modelWeights(model: tf.LayersModel): Promise<WeightSet> {
  return packWeights(model.weights.map((w) => ({ name: w.originalName, tensor: w.read() })))
}

/**
 * Adam's epsilon, set rather than left to the backend: tfjs-backend-webgl 4.22 reports float16 precision
 * (epsilon 1e-4) even with float32 textures, which made its updates differ from the CPU backends' (1e-7).
 */
const ADAM_EPSILON = 1e-7

/** A TrainingEngine on the tfjs backend in use in this realm. */
export class TfjsEngine implements TrainingEngine {
  private model: tf.LayersModel | null = null
  private optimizer: tf.Optimizer | null = null
  private loss = lossFunction('bce')
  private inputSize = 0
  /** Values per pixel of a prediction: 1 (leaf), or 2 for an instance network (leaf, leaf centre). */
  private outputChannels = 1
  /** Values per pixel of a target: an instance network's also weigh its centre's loss (unet.ts instanceLoss). */
  private targetChannels = 1

  async build(setup: EngineSetup): Promise<{ topology: unknown; inputSize: number }> {
    await this.dispose()
    const model =
      setup.network.kind === 'unet'
        ? buildUnet(setup.network.size, setup.network.seed)
        : await tf.models.modelFromJSON({ modelTopology: setup.network.topology as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON)
    try {
      if (setup.weights) assignWeights(model, setup.weights)
    } catch (err) {
      model.dispose()
      throw err
    }
    const shape = model.inputs[0].shape
    if (shape[1] == null || shape[2] !== shape[1] || shape[3] !== 3) {
      model.dispose()
      throw new Error(`The model does not take square RGB images (its input is ${JSON.stringify(shape)}).`)
    }
    this.model = model
    this.inputSize = shape[1]
    this.outputChannels = model.outputs[0].shape[3] ?? 1
    this.targetChannels = this.outputChannels === 2 ? 3 : this.outputChannels
    this.optimizer = tf.train.adam(setup.learningRate, 0.9, 0.999, ADAM_EPSILON)
    this.loss = this.outputChannels === 2 ? instanceLoss(lossFunction(setup.loss)) : lossFunction(setup.loss)
    return { topology: model.toJSON(null, false), inputSize: this.inputSize }
  }

  private built(): { model: tf.LayersModel; optimizer: tf.Optimizer } {
    if (!this.model || !this.optimizer) throw new Error('The engine has no network: build it first.')
    return { model: this.model, optimizer: this.optimizer }
  }

  /** Values of the network's output for one image (its height × width × channels). */
  outputValuesPerImage(): number {
    return this.built()
      .model.outputs[0].shape.slice(1)
      .reduce((a: number, b) => a * (b ?? 1), 1)
  }

  /** Values of the trainable variables, all together. */
  parameterCount(): number {
    return this.built().model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0)
  }

  private tensors(x: Float32Array, y: Float32Array | null, n: number): { x: tf.Tensor4D; y: tf.Tensor4D | null } {
    const s = this.inputSize
    if (x.length !== n * s * s * 3) throw new Error(`Expected ${n} images of ${s}×${s}×3 (${n * s * s * 3} values), got ${x.length} values.`)
    return { x: tf.tensor4d(x, [n, s, s, 3]), y: y && this.targets(y, n) }
  }

  private targets(y: Float32Array, n: number): tf.Tensor4D {
    const s = this.inputSize
    const c = this.targetChannels
    if (y.length !== n * s * s * c) throw new Error(`Expected ${n} masks of ${s}×${s}×${c} (${n * s * s * c} values), got ${y.length} values.`)
    return tf.tensor4d(y, [n, s, s, c])
  }

  async trainStep(xData: Float32Array, yData: Float32Array, n: number): Promise<StepResult> {
    const { model, optimizer } = this.built()
    const { x, y } = this.tensors(xData, yData, n)
    let counts: tf.Tensor | undefined
    let lossValue: tf.Scalar | null = null
    try {
      // An explicit variable list keeps Adam's moments in the layers' order on every backend and after a reload.
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
      lossValue = optimizer.minimize(
        () => {
          const p = model.apply(x, { training: true }) as tf.Tensor
          counts = tf.keep(confusionCounts(y!, p))
          return this.loss(y!, p)
        },
        true,
        variables
      )
      return await stepResult(lossValue!, counts!)
    } finally {
      tf.dispose([x, y!, lossValue!, counts!].filter(Boolean))
    }
  }

  async gradients(xData: Float32Array, yData: Float32Array, n: number): Promise<WeightSet> {
    const { model } = this.built()
    const { x, y } = this.tensors(xData, yData, n)
    const variables = model.trainableWeights
    const { value, grads } = tf.variableGrads(
      () => this.loss(y!, model.apply(x, { training: true }) as tf.Tensor),
      variables.map((w) => w.read() as tf.Variable)
    )
    try {
      return await packWeights(variables.map((w) => ({ name: w.originalName, tensor: grads[(w.read() as tf.Variable).name] })))
    } finally {
      tf.dispose([x, y!, value, ...Object.values(grads)])
    }
  }

  async evaluateBatch(xData: Float32Array, yData: Float32Array, n: number): Promise<StepResult> {
    const { model } = this.built()
    const { x, y } = this.tensors(xData, yData, n)
    const [lossValue, counts] = tf.tidy(() => {
      const p = model.predict(x) as tf.Tensor
      return [this.loss(y!, p), confusionCounts(y!, p)]
    })
    try {
      return await stepResult(lossValue, counts)
    } finally {
      tf.dispose([x, y!, lossValue, counts])
    }
  }

  async predict(xData: Float32Array, n: number): Promise<Float32Array> {
    const { model } = this.built()
    if (n === 0) return new Float32Array(0)
    const { x } = this.tensors(xData, null, n)
    const p = tf.tidy(() => model.predict(x) as tf.Tensor)
    try {
      return (await p.data()) as Float32Array
    } finally {
      tf.dispose([x, p])
    }
  }

  /**
   * One worker's share of a data-parallel call (worker-pool.ts). The worker holds images offset..offset+n-1
   * of a batch of `total` and the targets of the whole batch. `share.gather` puts this worker's outputs in
   * their place and returns every worker's (a barrier): the loss and its gradient with respect to the outputs
   * are then those of the whole batch, whatever the loss (a pooled Dice is not a mean over images), and the
   * variables' gradient of sum(outputs ⊙ that gradient) over this share is exactly this share's part of the
   * whole batch's gradient. `share.reduce` adds the shares' gradients in worker order (the same sum in every
   * worker). 'train' then applies one Adam step, the same in every worker, so their weights stay identical.
   * Returns the whole batch's loss and counts ('evaluate', 'train'), the summed gradients ('gradients').
   */
  shardStep(
    mode: 'evaluate' | 'train' | 'gradients',
    xData: Float32Array,
    yAll: Float32Array,
    n: number,
    offset: number,
    total: number,
    share: { gather(mine: Float32Array): Float32Array; reduce(grads: Float32Array): Float32Array }
  ): { result: StepResult; gradients?: Float32Array } {
    const { model, optimizer } = this.built()
    const outputShape = [total, ...model.outputs[0].shape.slice(1).map((d) => d ?? 1)]
    let result: StepResult = { loss: 0, counts: [0, 0, 0, 0] }
    // The whole batch's loss, counts and d(loss)/d(outputs) from every worker's outputs.
    const wholeBatch = (outputs: Float32Array): tf.Tensor => {
      const y = this.targets(yAll, total)
      const p = tf.tensor(outputs, outputShape)
      try {
        const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => this.loss(y, q))(p)
        const counts = confusionCounts(y, p)
        result = { loss: value.dataSync()[0], counts: Array.from(counts.dataSync()) as StepResult['counts'] }
        tf.dispose([value, counts])
        return grad
      } finally {
        tf.dispose([y, p])
      }
    }
    const x = n > 0 ? this.tensors(xData, null, n).x : null
    try {
      if (mode === 'evaluate') {
        const p = x && tf.tidy(() => model.predict(x) as tf.Tensor)
        const mine = p ? (p.dataSync() as Float32Array) : new Float32Array(0)
        p?.dispose()
        tf.dispose(wholeBatch(share.gather(mine)))
        return { result }
      }
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
      let packed: Float32Array = new Float32Array(this.parameterCount())
      if (x) {
        const { value, grads } = tf.variableGrads(() => {
          const p = model.apply(x, { training: true }) as tf.Tensor
          const g = wholeBatch(share.gather(p.dataSync() as Float32Array))
          return p.mul(g.slice(offset, n)).sum() as tf.Scalar
        }, variables)
        let at = 0
        for (const v of variables) {
          packed.set(grads[v.name].dataSync(), at)
          at += v.size
        }
        tf.dispose([value, ...Object.values(grads)])
      } else share.gather(new Float32Array(0))
      packed = share.reduce(packed)
      if (mode === 'gradients') return { result, gradients: packed }
      let at = 0
      const named = variables.map((v) => {
        const tensor = tf.tensor(packed.subarray(at, at + v.size), v.shape)
        at += v.size
        return { name: v.name, tensor }
      })
      try {
        optimizer.applyGradients(named) // Adam matches moments to variables by position: the layers' order, as in trainStep
      } finally {
        tf.dispose(named.map((w) => w.tensor))
      }
      return { result }
    } finally {
      x?.dispose()
    }
  }

  async getWeights(): Promise<WeightSet> {
    return modelWeights(this.built().model)
  }

  async getOptimizerState(): Promise<WeightSet | null> {
    const named = await this.built().optimizer.getWeights()
    try {
      // Only the iteration count before the first step: nothing worth keeping.
      return named.length > 1 ? await packWeights(named) : null
    } finally {
      // getWeights returns the moments' own variables plus a fresh iteration-count tensor: free only the latter.
      tf.dispose(named.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor))
    }
  }

  async setOptimizerState(state: WeightSet): Promise<void> {
    const named = unpackWeights(state)
    try {
      await this.built().optimizer.setWeights(named) // Adam matches moments to variables by position
    } finally {
      tf.dispose(named.map((w) => w.tensor))
    }
  }

  async memory(): Promise<{ bytes: number; tensors: number }> {
    const m = tf.memory()
    return { bytes: m.numBytes, tensors: m.numTensors }
  }

  async dispose(): Promise<void> {
    this.model?.dispose()
    this.optimizer?.dispose()
    this.model = null
    this.optimizer = null
  }
}

async function stepResult(loss: tf.Scalar, counts: tf.Tensor): Promise<StepResult> {
  const [l, c] = await Promise.all([loss.data(), counts.data()])
  return { loss: l[0], counts: [c[0], c[1], c[2], c[3]] }
}
