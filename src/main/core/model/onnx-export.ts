// A trained U-Net as an ONNX model, built from its tfjs layers and weights. The graph runs NCHW inside (what ONNX's
// Conv expects) with one transpose at each edge, so the file takes and gives NHWC like the tfjs model: input
// 'image' [batch, height, width, 3] RGB in 0..1, output 'mask' [batch, height, width, 1] leaf probabilities.
// Height and width are free (any multiple of 2^depth): the network is fully convolutional.
import type { tf } from './backend'
import { encodeOnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-proto'
import { writeOutputFile } from '../store/output'
import { appVersion } from '../../../shared/version'

interface LayerConfig {
  activation?: string
  padding?: string
  kernelSize?: number[]
  strides?: number[]
  poolSize?: number[]
  axis?: number
  useBias?: boolean
  dataFormat?: string
}

/** tfjs kernels are [kh, kw, a, b]; ONNX wants [b, a, kh, kw] for Conv (a=in, b=out) and ConvTranspose (a=out, b=in). */
function kernelToOnnx(kernel: tf.Tensor, name: string): OnnxTensor {
  const [kh, kw, a, b] = kernel.shape
  const source = kernel.dataSync() as Float32Array
  const data = new Float32Array(source.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) data[((o * a + i) * kh + y) * kw + x] = source[((y * kw + x) * a + i) * b + o]
  return { name, dims: [b, a, kh, kw], data }
}

/**
 * The ONNX graph of a layers model made of the U-Net's layers (Conv2D with ReLU/sigmoid/linear, MaxPooling2D,
 * Conv2DTranspose, Concatenate). Any other layer, or a setting the graph cannot express, is refused by name.
 */
export function unetToOnnxGraph(model: tf.LayersModel): OnnxGraph {
  const nodes: OnnxNode[] = []
  const initializers: OnnxTensor[] = []
  /** The ONNX value (NCHW) each tfjs layer's output became. */
  const valueOf = new Map<string, string>()
  const unsupported = (layer: tf.layers.Layer, why: string) => new Error(`Cannot export layer ${layer.name} (${layer.getClassName()}) to ONNX: ${why}`)
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('Only models with one input and one output can be exported to ONNX')
  const channels = model.inputs[0].shape[3]
  if (model.inputs[0].shape.length !== 4 || channels == null)
    throw new Error(`ONNX export needs an image input [batch, height, width, channels], got ${JSON.stringify(model.inputs[0].shape)}`)

  for (const layer of model.layers) {
    const config = layer.getConfig() as LayerConfig
    const kind = layer.getClassName()
    if (kind === 'InputLayer') {
      nodes.push({ op: 'Transpose', name: 'to_nchw', inputs: ['image'], outputs: ['image_nchw'], attributes: { perm: [0, 3, 1, 2] } })
      valueOf.set(layer.name, 'image_nchw')
      continue
    }
    if (config.dataFormat && config.dataFormat !== 'channelsLast') throw unsupported(layer, `data format ${config.dataFormat}`)
    const inbound = layer.inboundNodes
    if (inbound.length !== 1) throw unsupported(layer, 'it is used more than once')
    const inputs = inbound[0].inboundLayers.map((l) => {
      const v = valueOf.get(l.name)
      if (!v) throw unsupported(layer, `its input ${l.name} comes after it`)
      return v
    })
    const out = `${layer.name}_out`
    if (kind === 'Conv2D' || kind === 'Conv2DTranspose') {
      const [kernel, bias] = layer.getWeights()
      const [kh, kw] = kernel.shape
      const strides = config.strides ?? [1, 1]
      let pads = [0, 0, 0, 0]
      if (kind === 'Conv2D') {
        if (strides[0] !== 1 || strides[1] !== 1) throw unsupported(layer, 'strided convolutions are not exported')
        if (config.padding === 'same') {
          if (kh % 2 === 0 || kw % 2 === 0) throw unsupported(layer, "'same' padding with an even kernel")
          pads = [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2]
        }
      } else if (config.padding === 'same' && (kh !== strides[0] || kw !== strides[1])) {
        // With kernel = stride, 'same' needs no padding (each input pixel becomes one kernel-sized block).
        throw unsupported(layer, "'same' padding with a kernel unequal to its stride")
      }
      const weightName = `${layer.name}.weight`
      initializers.push(kernelToOnnx(kernel, weightName))
      const nodeInputs = [inputs[0], weightName]
      if (bias) {
        initializers.push({ name: `${layer.name}.bias`, dims: [bias.shape[0]], data: Float32Array.from(bias.dataSync() as Float32Array) })
        nodeInputs.push(`${layer.name}.bias`)
      }
      const activation = config.activation ?? 'linear'
      const convOut = activation === 'linear' ? out : `${out}_linear`
      nodes.push({
        op: kind === 'Conv2D' ? 'Conv' : 'ConvTranspose',
        name: layer.name,
        inputs: nodeInputs,
        outputs: [convOut],
        attributes: { kernel_shape: [kh, kw], strides, pads }
      })
      if (activation === 'relu') nodes.push({ op: 'Relu', name: `${layer.name}_relu`, inputs: [convOut], outputs: [out] })
      else if (activation === 'sigmoid') nodes.push({ op: 'Sigmoid', name: `${layer.name}_sigmoid`, inputs: [convOut], outputs: [out] })
      else if (activation !== 'linear') throw unsupported(layer, `activation ${activation}`)
    } else if (kind === 'MaxPooling2D') {
      if (config.padding !== 'valid') throw unsupported(layer, `padding ${config.padding}`)
      const pool = config.poolSize ?? [2, 2]
      nodes.push({ op: 'MaxPool', name: layer.name, inputs, outputs: [out], attributes: { kernel_shape: pool, strides: config.strides ?? pool } })
    } else if (kind === 'Concatenate') {
      if (config.axis !== -1 && config.axis !== 3) throw unsupported(layer, `concatenation along axis ${config.axis}`)
      nodes.push({ op: 'Concat', name: layer.name, inputs, outputs: [out], attributes: { axis: 1 } })
    } else {
      throw unsupported(layer, 'this kind of layer is not exported')
    }
    valueOf.set(layer.name, out)
  }
  const last = model.outputs[0].sourceLayer.name
  nodes.push({ op: 'Transpose', name: 'to_nhwc', inputs: [valueOf.get(last)!], outputs: ['mask'], attributes: { perm: [0, 2, 3, 1] } })
  const outChannels = model.outputs[0].shape[3] ?? 1
  return {
    name: model.name,
    nodes,
    initializers,
    inputs: [{ name: 'image', dims: ['batch', 'height', 'width', channels] }],
    outputs: [{ name: 'mask', dims: ['batch', 'height', 'width', outChannels] }]
  }
}

/** The .onnx bytes of a layers model. */
export function unetToOnnx(model: tf.LayersModel): Uint8Array {
  return encodeOnnxModel(unetToOnnxGraph(model), { name: 'leafseg', version: appVersion })
}

/**
 * Write a model's ONNX file (temp file + rename, so a crash never leaves half a file). The API refused an existing
 * file without consent when the export started; links, devices and project files are refused again here.
 */
export async function writeOnnxFile(model: tf.LayersModel, file: string): Promise<{ file: string; bytes: number }> {
  const bytes = unetToOnnx(model)
  await writeOutputFile(file, bytes, { overwrite: true })
  return { file, bytes: bytes.length }
}
