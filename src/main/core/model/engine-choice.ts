// Which engine trains and predicts: native CUDA (tfjs-node-gpu, when it really runs on the GPU) → WebGPU on a
// hardware adapter (Dawn in a thread of this process: every host) → the GPU worker's WebGL2 on a hardware renderer
// (desktop app only, for GPUs with no WebGPU driver) → native CPU → wasm → cpu. A software adapter or renderer is
// never called a GPU and never chosen over the CPU backends unless asked for.
import type { GpuWorkerHello } from '../../../shared/gpu-worker'
import { defaultWasmDir, initBackend, type BackendInfo, type BackendName, type BackendOptions } from './backend'
import { TfjsEngine, type TrainingEngine } from './engine'
import { RemoteEngine } from './remote-engine'
import { gpuWorkerConnector } from './gpu-connector'
import { openWebGpuPort, type WebGpuThreadData } from './webgpu-connector'
import { WorkerPoolEngine } from './worker-pool'

export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'tensorflow' | 'wasm' | 'cpu'
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'tensorflow', 'wasm', 'cpu']

export interface EngineInfo extends Omit<BackendInfo, 'backend'> {
  backend: BackendName | 'webgl' | 'webgpu'
  /** The GPU worker's renderer string and limits, when it computes. */
  gpu?: GpuWorkerHello
  /** Worker threads that train on wasm, each on its share of every batch (worker-pool.ts); absent: this thread computes. */
  workers?: number
}

export interface OpenEngine {
  engine: TrainingEngine
  info: EngineInfo
  /** Free the network (and the GPU worker's port). */
  close(): Promise<void>
}

/** What computes, in words: a GPU by its renderer string or adapter, a software one as the CPU it is. */
export function gpuDevice(hello: GpuWorkerHello): string {
  const api = hello.backend === 'webgpu' ? 'WebGPU' : 'WebGL2'
  const what = hello.backend === 'webgpu' ? 'adapter' : 'renderer'
  return hello.software ? `CPU through a software ${what} (${api} on ${hello.renderer}): not a GPU` : `GPU (${api}): ${hello.renderer}`
}

async function connectGpuWorker(): Promise<RemoteEngine> {
  const connector = gpuWorkerConnector()
  if (!connector) throw new Error('The GPU worker exists only in the desktop app (the command line and the web host have no browser of their own).')
  return RemoteEngine.connect(await connector())
}

/** WebGPU through Dawn in a thread of this process (webgpu-thread.ts); `data` rehearses failures in tests. */
export async function openWebGpuEngine(data: WebGpuThreadData = {}): Promise<OpenEngine> {
  return remote(await RemoteEngine.connect(openWebGpuPort(data)))
}

function remote(engine: RemoteEngine, reason?: string): OpenEngine {
  return { engine, info: { backend: engine.hello.backend, device: gpuDevice(engine.hello), reason, gpu: engine.hello }, close: () => engine.close() }
}

export interface EngineOptions extends Omit<BackendOptions, 'force'> {
  /** Worker threads for the wasm backend (default 1: this thread computes); ignored by the other backends. */
  workers?: number
}

async function local(info: BackendInfo, options: EngineOptions): Promise<OpenEngine> {
  const workers = options.workers ?? 1
  if (info.backend === 'wasm' && workers > 1) {
    const pool = await WorkerPoolEngine.start(workers, options.wasmDir ?? defaultWasmDir())
    return { engine: pool, info: { ...info, device: `CPU (wasm, ${workers} workers)`, workers }, close: () => pool.close() }
  }
  const engine = new TfjsEngine()
  return { engine, info, close: () => engine.dispose() }
}

/** Open the engine for `choice` ('auto': the order above). Throws, with the reason, when a named backend cannot start. */
export async function openEngine(choice: BackendChoice = 'auto', options: EngineOptions = {}): Promise<OpenEngine> {
  if (choice === 'webgpu') return openWebGpuEngine()
  if (choice === 'webgl') return remote(await connectGpuWorker())
  if (choice !== 'auto') return local(await initBackend({ ...options, force: choice }), options)

  const native = await initBackend(options)
  if (native.device.startsWith('GPU')) return local(native, options)
  const reasons = native.reason ? [native.reason] : []
  // The machine's WebGPU adapter does not change while this process lives: a miss is tried once.
  if (!webGpuMiss) {
    const gpu = await openHardwareGpu('WebGPU', () => openWebGpuEngine())
    if ('engine' in gpu) return gpu
    webGpuMiss = gpu.reason
  }
  reasons.push(webGpuMiss)
  if (gpuWorkerConnector()) {
    const gpu = await openHardwareGpu('the GPU worker', async () => remote(await connectGpuWorker()))
    if ('engine' in gpu) return gpu
    reasons.push(gpu.reason)
  }
  return local({ ...native, reason: reasons.join('; ') }, options)
}

/** Why `auto` did not choose WebGPU in this process, once it tried. */
let webGpuMiss: string | null = null

/** A GPU engine when it starts on a hardware GPU; else why not (a software one is closed again). */
async function openHardwareGpu(name: string, connect: () => Promise<OpenEngine>): Promise<OpenEngine | { reason: string }> {
  let gpu: OpenEngine
  try {
    gpu = await connect()
  } catch (err) {
    return { reason: `${name} did not start: ${(err as Error).message}` }
  }
  if (!gpu.info.gpu!.software) return gpu
  await gpu.close()
  const what = gpu.info.backend === 'webgpu' ? 'adapter' : 'renderer'
  return {
    reason: `${name} found only a software ${what} (${gpu.info.gpu!.renderer}), which is slower than the CPU backends; choose ${gpu.info.backend} by hand to use it anyway`
  }
}
