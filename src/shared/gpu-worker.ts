// The GPU engines' message protocol: the job process (a TrainingEngine client) and a GPU engine (the GPU worker
// page on WebGL2, or the WebGPU thread on Dawn) exchange these over a MessagePort. Plain data only; Float32Arrays travel as transferables.

/** What a GPU engine (the GPU worker page on WebGL2, the WebGPU thread on Dawn) found when it started its tfjs backend. */
export interface GpuWorkerHello {
  backend: 'webgpu' | 'webgl'
  /** The WebGL renderer string (WEBGL_debug_renderer_info) or the WebGPU adapter's fields in one line. */
  renderer: string
  /** WebGPU: the adapter's own fields, as stored with a run. */
  adapter?: { vendor: string; architecture: string; device: string; description: string }
  /** A software renderer (SwiftShader, llvmpipe, lavapipe, Microsoft Basic Render Driver): not a GPU. */
  software: boolean
  /** WebGL: the largest texture side (a tensor must fit one texture); null on WebGPU. */
  maxTextureSize: number | null
  /** WebGPU: the largest buffer in bytes (a tensor must fit one buffer); null on WebGL. */
  maxBufferBytes: number | null
  /** WebGL2: float32 textures can be rendered to (EXT_color_buffer_float); training needs it. */
  floatRenderTargets: boolean
}

/** The U-Net's size (same fields as the ML core's UnetConfig). */
export interface NetworkSize {
  inputSize: number
  baseFilters: number
  depth: number
}

/** A model's variables in one flat float32 buffer, in `specs` order. */
export interface WeightSet {
  specs: Array<{ name: string; shape: number[] }>
  data: Float32Array
}

export interface EngineSetup {
  /** Build the U-Net of this size (initialised from `seed`), or a model from a saved tfjs layers topology. */
  network: { kind: 'unet'; size: NetworkSize; seed: number } | { kind: 'topology'; topology: unknown }
  loss: 'bce' | 'dice' | 'bce+dice'
  learningRate: number
  /** Replace the initial weights (a checkpoint). */
  weights?: WeightSet
}

/** A training or evaluation step's loss and its confusion counts [tp, fp, fn, tn] at threshold 0.5. */
export interface StepResult {
  loss: number
  counts: [number, number, number, number]
}

/** Every engine call, with its arguments and its answer. */
export interface EngineCalls {
  build: { args: [setup: EngineSetup]; result: { topology: unknown; inputSize: number } }
  trainStep: { args: [x: Float32Array, y: Float32Array, n: number]; result: StepResult }
  evaluateBatch: { args: [x: Float32Array, y: Float32Array, n: number]; result: StepResult }
  /** The loss's gradient for every trainable variable, without a step (to compare backends). */
  gradients: { args: [x: Float32Array, y: Float32Array, n: number]; result: WeightSet }
  predict: { args: [x: Float32Array, n: number]; result: Float32Array }
  getWeights: { args: []; result: WeightSet }
  getOptimizerState: { args: []; result: WeightSet | null }
  setOptimizerState: { args: [state: WeightSet]; result: void }
  memory: { args: []; result: { bytes: number; tensors: number } }
  dispose: { args: []; result: void }
}

export type EngineCall = keyof EngineCalls

/**
 * Why the worker could not do what it was asked: 'out-of-memory' (the GPU, or a texture bigger than the GPU
 * allows), 'context-lost' (the browser dropped the WebGL/WebGPU device), 'no-float-textures' (WebGL2
 * without float render targets cannot train), 'failed' (anything else).
 */
export interface GpuWorkerFailure {
  kind: 'out-of-memory' | 'context-lost' | 'no-float-textures' | 'failed'
  message: string
}

export type ToGpuWorker = { type: 'hello'; id: number } | { [C in EngineCall]: { type: 'call'; id: number; call: C; args: EngineCalls[C]['args'] } }[EngineCall]

export type FromGpuWorker =
  | { type: 'hello'; id: number; hello: GpuWorkerHello }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; failure: GpuWorkerFailure }
  /** Sent unasked when the device is lost between calls. */
  | { type: 'lost'; failure: GpuWorkerFailure }

/** The window.postMessage data with which the preload (or a test bridge) hands the page its port. */
export const GPU_WORKER_PORT_MESSAGE = 'leafseg:gpu-worker-port'

/** In the desktop app: the job process's request to the main process for a port to the GPU worker window, and its answer. */
export const GPU_WORKER_REQUEST = 'leafseg:gpu-worker-request'
