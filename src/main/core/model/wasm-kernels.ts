// Training kernels for the tfjs wasm backend.
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so a conv net cannot train on it as shipped,
// and its Conv2DBackpropInput is about 13x slower than its forward Conv2D. Both are rebuilt here from
// the backend's fast XNNPACK kernels (Conv2D, BatchMatMul) plus index shuffling in JS on the wasm heap:
//  - filter gradient: transposed im2col (rows = filter taps x input channels, columns = output pixels)
//    then one BatchMatMul with dy, which lands directly in the [fh, fw, inC, outC] filter layout;
//  - input gradient, stride 1: a forward Conv2D of dy with the flipped, in/out-swapped filter;
//  - input gradient / transposed conv with stride == kernel size (the U-Net's 2x2 stride-2 up-convolution):
//    one BatchMatMul and a pixel shuffle.
// Anything else falls back to the backend's own Conv2DBackpropInput.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs'

type Padding = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
type ConvAttrs = {
  strides: [number, number] | number
  pad: Padding
  dataFormat: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

let originalBackpropInput: KernelFunc | undefined
let originalSum: KernelFunc | undefined
let originalSplitV: KernelFunc | undefined
let originalConcat: KernelFunc | undefined
let originalMaxPoolGrad: KernelFunc | undefined

function kernel(name: string): KernelFunc {
  const config = tf.getKernel(name, 'wasm')
  if (!config) throw new Error(`The wasm backend has no ${name} kernel`)
  return config.kernelFunc
}

/** Largest im2col buffer of the filter gradient, in floats (256 MiB); larger batches go in image chunks. */
let im2colMaxFloats = 64 * 1024 * 1024

/** Change the im2col bound (tests use a tiny one to exercise the chunked path). */
export function setIm2colLimit(floats: number): void {
  im2colMaxFloats = floats
}

/** A float32 buffer on the wasm heap; tfjs does not check malloc, so a full heap is caught here. */
function allocate(backend: BackendWasm, shape: number[]): TensorInfo {
  const info = backend.makeOutput(shape, 'float32')
  if (backend.dataIdMap.get(info.dataId)!.memoryOffset === 0) {
    backend.disposeData(info.dataId)
    throw new Error('The wasm backend ran out of memory (its heap stops at 4 GiB): use a smaller batch size or network')
  }
  return info
}

function heap(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array
}

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm training kernels support NHWC only')
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast'
  )
}

function conv2dBackpropFilter({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const wasm = backend as BackendWasm
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const a = attrs as ConvAttrs & { filterShape: [number, number, number, number] }
  const info = convInfo(x.shape, a.filterShape, a)
  const [batch, inH, inW, inC] = x.shape
  const { outHeight: outH, outWidth: outW, outChannels: outC, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info
  const padTop = info.padInfo.top
  const padLeft = info.padInfo.left
  const taps = fh * fw * inC
  if (fh === 1 && fw === 1 && sh === 1 && sw === 1 && padTop === 0 && padLeft === 0) return filterGradientOf1x1(wasm, x, dy, a.filterShape)

  // x as zero-padded channel-major planes [inC][batch][padH][padW] (a margin at the end for the flat reads below).
  const padH = Math.max(inH + padTop, (outH - 1) * sh + fh)
  const padW = Math.max(inW + padLeft, (outW - 1) * sw + fw)
  const planeSize = batch * padH * padW
  const margin = fh * padW + fw
  const planesInfo = allocate(wasm, [inC * planeSize + margin])
  const planes = heap(wasm, planesInfo)
  planes.fill(0)
  {
    const src = heap(wasm, x)
    const block = 64 // pixels per block: the block's reads and its inC write runs stay in L1
    for (let n = 0; n < batch; n++)
      for (let y = 0; y < inH; y++) {
        const srcRow = (n * inH + y) * inW
        const dstRow = (n * padH + y + padTop) * padW + padLeft
        for (let x0 = 0; x0 < inW; x0 += block) {
          const x1 = Math.min(inW, x0 + block)
          for (let c = 0; c < inC; c++) {
            let s = (srcRow + x0) * inC + c
            let d = c * planeSize + dstRow + x0
            for (let xx = x0; xx < x1; xx++, s += inC) planes[d++] = src[s]
          }
        }
      }
  }

  // With stride 1 the output grid can be widened to the padded grid (padH x padW per image, dy zero in
  // the extra rows and columns): every im2col row is then one contiguous run of the planes.
  const flat = sh === 1 && sw === 1 && (padH * padW) / (outH * outW) < 1.2
  const colsPerImage = flat ? padH * padW : outH * outW
  // Images per matmul: bounds the im2col buffer (the wasm heap stops at 4 GiB).
  const imagesPerChunk = Math.max(1, Math.min(batch, Math.floor(im2colMaxFloats / (taps * colsPerImage))))
  const sum = imagesPerChunk < batch ? new Float32Array(taps * outC) : null
  let result: TensorInfo | undefined
  for (let n0 = 0; n0 < batch; n0 += imagesPerChunk) {
    const images = Math.min(imagesPerChunk, batch - n0)
    const cols = images * colsPerImage
    const patches = allocate(wasm, [taps, cols])
    const dyCols = allocate(wasm, [cols, outC])
    const planesAt = wasm.dataIdMap.get(planesInfo.dataId)!.memoryOffset / 4
    const patchesAt = wasm.dataIdMap.get(patches.dataId)!.memoryOffset / 4
    const heapF32 = new Float32Array(heap(wasm, planesInfo).buffer)
    const dyValues = heap(wasm, dy)
    const dyChunk = heap(wasm, dyCols)
    let d = patchesAt
    if (flat) {
      for (let ky = 0; ky < fh; ky++)
        for (let kx = 0; kx < fw; kx++)
          for (let c = 0; c < inC; c++, d += cols) {
            const s = planesAt + c * planeSize + n0 * colsPerImage + ky * padW + kx
            heapF32.copyWithin(d, s, s + cols)
          }
      dyChunk.fill(0)
      const run = outW * outC
      for (let n = 0; n < images; n++)
        for (let oy = 0; oy < outH; oy++) {
          const r = (n0 + n) * outH + oy
          dyChunk.set(dyValues.subarray(r * run, (r + 1) * run), (n * padH + oy) * padW * outC)
        }
    } else {
      for (let ky = 0; ky < fh; ky++)
        for (let kx = 0; kx < fw; kx++)
          for (let c = 0; c < inC; c++)
            for (let n = n0; n < n0 + images; n++)
              for (let oy = 0; oy < outH; oy++) {
                const s = planesAt + ((c * batch + n) * padH + oy * sh + ky) * padW + kx
                if (sw === 1) heapF32.copyWithin(d, s, s + outW)
                else for (let ox = 0; ox < outW; ox++) heapF32[d + ox] = heapF32[s + ox * sw]
                d += outW
              }
      dyChunk.set(dyValues.subarray(n0 * outH * outW * outC, (n0 + images) * outH * outW * outC))
    }
    const part = kernel('BatchMatMul')({ inputs: { a: patches, b: dyCols }, backend: wasm, attrs: { transposeA: false, transposeB: false } }) as TensorInfo
    wasm.disposeData(patches.dataId)
    wasm.disposeData(dyCols.dataId)
    if (sum) {
      const values = heap(wasm, part)
      for (let i = 0; i < sum.length; i++) sum[i] += values[i]
      wasm.disposeData(part.dataId)
    } else result = part
  }
  wasm.disposeData(planesInfo.dataId)
  if (sum) {
    result = allocate(wasm, [taps, outC])
    heap(wasm, result).set(sum)
  }
  return { dataId: result!.dataId, shape: [...a.filterShape], dtype: 'float32' }
}

/**
 * Filter gradient of a 1x1 stride-1 conv (the U-Net's output layer): dW^T = dy^T · x, one matmul on x as
 * it is (no im2col), then a small transpose.
 */
function filterGradientOf1x1(wasm: BackendWasm, x: TensorInfo, dy: TensorInfo, filterShape: [number, number, number, number]): TensorInfo {
  const inC = x.shape[3]
  const outC = dy.shape[3]
  const pixels = tf.util.sizeFromShape(dy.shape) / outC
  const rows: TensorInfo = { dataId: x.dataId, shape: [pixels, inC], dtype: 'float32' }
  let dyT: TensorInfo = { dataId: dy.dataId, shape: [outC, pixels], dtype: 'float32' }
  if (outC > 1) {
    dyT = allocate(wasm, [outC, pixels])
    const src = heap(wasm, dy)
    const dst = heap(wasm, dyT)
    for (let m = 0, s = 0; m < pixels; m++) for (let c = 0; c < outC; c++) dst[c * pixels + m] = src[s++]
  }
  const transposed = kernel('BatchMatMul')({ inputs: { a: dyT, b: rows }, backend: wasm, attrs: { transposeA: false, transposeB: false } }) as TensorInfo
  if (outC > 1) wasm.disposeData(dyT.dataId)
  const out = allocate(wasm, [...filterShape])
  const t = heap(wasm, transposed)
  const o = heap(wasm, out)
  for (let c = 0; c < outC; c++) for (let k = 0; k < inC; k++) o[k * outC + c] = t[c * inC + k]
  wasm.disposeData(transposed.dataId)
  return out
}

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const wasm = args.backend as BackendWasm
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
  const a = args.attrs as ConvAttrs & { inputShape: [number, number, number, number] }
  const info = convInfo(a.inputShape, filter.shape, a)
  const [fh, fw, inC, outC] = filter.shape
  const { strideHeight: sh, strideWidth: sw } = info
  const { top, bottom, left, right } = info.padInfo
  const [batch, inH, inW] = a.inputShape
  const [, outH, outW] = dy.shape

  if (sh === 1 && sw === 1) {
    // dx = conv(dy, filter rotated 180 degrees with in/out channels swapped), padding mirrored.
    const flipped = allocate(wasm, [fh, fw, outC, inC])
    const src = heap(wasm, filter)
    const dst = heap(wasm, flipped)
    for (let ky = 0; ky < fh; ky++)
      for (let kx = 0; kx < fw; kx++)
        for (let ci = 0; ci < inC; ci++)
          for (let co = 0; co < outC; co++) dst[((ky * fw + kx) * outC + co) * inC + ci] = src[(((fh - 1 - ky) * fw + (fw - 1 - kx)) * inC + ci) * outC + co]
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [fh - 1 - top, fh - 1 - bottom],
      [fw - 1 - left, fw - 1 - right],
      [0, 0]
    ]
    const out = kernel('Conv2D')({
      inputs: { x: dy, filter: flipped },
      backend: wasm,
      attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 }
    }) as TensorInfo
    wasm.disposeData(flipped.dataId)
    return out
  }

  if (sh === fh && sw === fw && top === 0 && left === 0 && inH === outH * sh && inW === outW * sw) {
    // Non-overlapping taps: every dy pixel writes its own fh x fw block of dx.
    const weights = allocate(wasm, [outC, fh * fw * inC])
    {
      const src = heap(wasm, filter)
      const dst = heap(wasm, weights)
      const taps = fh * fw * inC
      for (let t = 0; t < taps; t++) for (let co = 0; co < outC; co++) dst[co * taps + t] = src[t * outC + co]
    }
    const dyRows: TensorInfo = { dataId: dy.dataId, shape: [batch * outH * outW, outC], dtype: 'float32' }
    const blocks = kernel('BatchMatMul')({ inputs: { a: dyRows, b: weights }, backend: wasm, attrs: { transposeA: false, transposeB: false } }) as TensorInfo
    wasm.disposeData(weights.dataId)
    const dx = allocate(wasm, [...a.inputShape])
    const b = heap(wasm, blocks)
    const d = heap(wasm, dx)
    const run = fw * inC // one dy pixel's row of a block is contiguous in dx
    let s = 0
    for (let n = 0; n < batch; n++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++)
          for (let ky = 0; ky < fh; ky++) {
            const t = ((n * inH + oy * fh + ky) * inW + ox * fw) * inC
            d.set(b.subarray(s, s + run), t)
            s += run
          }
    wasm.disposeData(blocks.dataId)
    return dx
  }

  return originalBackpropInput!(args as Parameters<KernelFunc>[0]) as TensorInfo
}

// Sums over leading axes (every bias gradient: over batch, rows and columns) in one pass; the stock kernel
// first transposes the whole tensor with the backend's slow Transpose.
function sumLeadingAxes(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const wasm = args.backend as BackendWasm
  const { x } = args.inputs as { x: TensorInfo }
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean }
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q)
  const leading = axes.length < x.shape.length && axes.every((ax, i) => ax === i)
  const kept = x.shape.slice(axes.length)
  if (x.dtype !== 'float32' || !leading || kept.includes(0)) return originalSum!(args as Parameters<KernelFunc>[0]) as TensorInfo
  const cols = tf.util.sizeFromShape(kept)
  const rows = tf.util.sizeFromShape(x.shape) / cols
  const out = allocate(wasm, kept)
  const totals = new Float64Array(cols)
  const values = heap(wasm, x)
  for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < cols; c++) totals[c] += values[i++]
  heap(wasm, out).set(totals)
  return keepDims ? { dataId: out.dataId, shape: [...axes.map(() => 1), ...kept], dtype: 'float32' } : out
}

// Copies `rows` runs of `run` 4-byte elements between heap offsets (in elements), bit-exact for any 4-byte dtype.
function copyRuns(words: Int32Array, from: number, fromStride: number, to: number, toStride: number, run: number, rows: number): void {
  if (run >= 64) {
    for (let r = 0; r < rows; r++, from += fromStride, to += toStride) words.copyWithin(to, from, from + run)
    return
  }
  for (let r = 0; r < rows; r++, from += fromStride, to += toStride) for (let i = 0; i < run; i++) words[to + i] = words[from + i]
}

function offsetOf(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset / 4
}

// Split and concatenation along an axis as strided run copies (the U-Net's skip concatenations and their
// gradients): the stock SplitV slices through a kernel that takes ~30x longer than the copy.
function splitV(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo[] {
  const wasm = args.backend as BackendWasm
  const { x } = args.inputs as { x: TensorInfo }
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number[] | number; axis: number }
  if (x.dtype === 'bool' || x.dtype === 'string' || x.dtype === 'complex64') return originalSplitV!(args as Parameters<KernelFunc>[0]) as TensorInfo[]
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax)
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax))
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1))
  const outs = sizes.map((size) => {
    const shape = [...x.shape]
    shape[ax] = size
    const out = wasm.makeOutput(shape, x.dtype)
    if (tf.util.sizeFromShape(shape) > 0 && offsetOf(wasm, out) === 0) throw new Error('The wasm backend ran out of memory (its heap stops at 4 GiB)')
    return out
  })
  const words = new Int32Array(heap(wasm, x).buffer)
  const from = offsetOf(wasm, x)
  let offset = 0
  sizes.forEach((size, i) => {
    if (size > 0) copyRuns(words, from + offset, x.shape[ax] * inner, offsetOf(wasm, outs[i]), size * inner, size * inner, outer)
    offset += size * inner
  })
  return outs
}

function concat(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const wasm = args.backend as BackendWasm
  const inputs = (args.inputs as unknown as TensorInfo[]).filter((t) => tf.util.sizeFromShape(t.shape) > 0)
  const dtype = inputs[0]?.dtype
  if (inputs.length < 2 || dtype === 'bool' || dtype === 'string' || dtype === 'complex64')
    return originalConcat!(args as Parameters<KernelFunc>[0]) as TensorInfo
  const ax = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0].shape)[0]
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    ax
  )
  const out = wasm.makeOutput(outShape, dtype)
  if (offsetOf(wasm, out) === 0) throw new Error('The wasm backend ran out of memory (its heap stops at 4 GiB)')
  const outer = tf.util.sizeFromShape(outShape.slice(0, ax))
  const outRow = tf.util.sizeFromShape(outShape.slice(ax))
  const words = new Int32Array(heap(wasm, out).buffer)
  let offset = offsetOf(wasm, out)
  for (const t of inputs) {
    const run = tf.util.sizeFromShape(t.shape.slice(ax))
    copyRuns(words, offsetOf(wasm, t), run, offset, outRow, run, outer)
    offset += run
  }
  return out
}

// Max-pool gradient: each dy value goes to the first largest in-bounds input of its window (the cpu
// backend's rule). The stock wasm kernel counts 'same' padding as zeros, so a window of negative values
// sends its gradient nowhere. Non-overlapping 2x2 windows (the U-Net's pools) take a fast path.
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const wasm = args.backend as BackendWasm
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
    filterSize: number | [number, number]
    strides: number | [number, number]
    pad: Padding
    dimRoundingMode?: 'floor' | 'round' | 'ceil'
  }
  if (input.dtype !== 'float32') return originalMaxPoolGrad!(args as Parameters<KernelFunc>[0]) as TensorInfo
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode)
  const [batch, inH, inW, channels] = input.shape
  const { outHeight: outH, outWidth: outW, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info
  const top = info.padInfo.top
  const left = info.padInfo.left
  const dx = allocate(wasm, [...input.shape])
  const x = heap(wasm, input)
  const g = heap(wasm, dy)
  const d = heap(wasm, dx)
  const row = inW * channels
  let o = 0
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && inH === 2 * outH && inW === 2 * outW) {
    for (let n = 0; n < batch; n++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          const p00 = ((n * inH + 2 * oy) * inW + 2 * ox) * channels
          for (let c = 0; c < channels; c++, o++) {
            const a = p00 + c
            const b = a + channels
            const e = a + row
            const f = e + channels
            let best = a
            if (x[b] > x[best]) best = b
            if (x[e] > x[best]) best = e
            if (x[f] > x[best]) best = f
            d[a] = d[b] = d[e] = d[f] = 0
            d[best] = g[o]
          }
        }
    return dx
  }
  d.fill(0)
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let c = 0; c < channels; c++, o++) {
          let best = -1
          let bestValue = -Infinity
          for (let ky = 0; ky < fh; ky++) {
            const y = oy * sh - top + ky
            if (y < 0 || y >= inH) continue
            for (let kx = 0; kx < fw; kx++) {
              const xx = ox * sw - left + kx
              if (xx < 0 || xx >= inW) continue
              const at = ((n * inH + y) * inW + xx) * channels + c
              if (x[at] > bestValue) {
                bestValue = x[at]
                best = at
              }
            }
          }
          if (best >= 0) d[best] += g[o]
        }
  return dx
}

const ownKernels: KernelConfig[] = [
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad as KernelFunc },
  { kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV as unknown as KernelFunc },
  { kernelName: 'Concat', backendName: 'wasm', kernelFunc: concat as KernelFunc },
  { kernelName: 'Sum', backendName: 'wasm', kernelFunc: sumLeadingAxes as KernelFunc },
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter as KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInput as KernelFunc }
]

/**
 * Register the training kernels on the wasm backend (idempotent). Call after the wasm backend module
 * has started (tf.setBackend('wasm')); it replaces the stock Conv2DBackpropInput, Sum, SplitV, Concat and MaxPoolGrad
 * and keeps them as fallbacks for the cases not handled here.
 */
export function registerWasmTrainingKernels(): void {
  const current = tf.getKernel('Conv2DBackpropInput', 'wasm')
  if (current?.kernelFunc === (conv2dBackpropInput as KernelFunc)) return
  if (current) {
    originalBackpropInput = current.kernelFunc
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm')
  }
  originalSum = kernel('Sum')
  originalSplitV = kernel('SplitV')
  originalConcat = kernel('Concat')
  originalMaxPoolGrad = kernel('MaxPoolGrad')
  for (const name of ['Sum', 'SplitV', 'Concat', 'MaxPoolGrad']) tf.unregisterKernel(name, 'wasm')
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm')
  for (const config of ownKernels) tf.registerKernel(config)
}
