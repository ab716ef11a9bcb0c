// Which engine trains and predicts: native CUDA (tfjs-node-gpu, when it really runs on the GPU) → the GPU
// worker (WebGPU, then WebGL2 on a hardware renderer; desktop app only) → native CPU → wasm → cpu. A
// software renderer is never called a GPU and never chosen over the CPU backends unless asked for.
import type { GpuWorkerHello } from '../../../shared/gpu-worker'
import { defaultWasmDir, initBackend, type BackendInfo, type BackendName, type BackendOptions } from './backend'
import { TfjsEngine, type TrainingEngine } from './engine'
import { RemoteEngine } from './remote-engine'
import { gpuWorkerConnector } from './gpu-connector'
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

/** What computes, in words: a GPU by its renderer string, a software renderer as the CPU it is. */
export function gpuDevice(hello: GpuWorkerHello): string {
  const api = hello.backend === 'webgpu' ? 'WebGPU' : 'WebGL2'
  return hello.software ? `CPU through a software renderer (${api} on ${hello.renderer}): not a GPU` : `GPU (${api}): ${hello.renderer}`
}

async function connectGpuWorker(): Promise<RemoteEngine> {
  const connector = gpuWorkerConnector()
  if (!connector) throw new Error('The GPU worker exists only in the desktop app (the command line and the web host have no browser of their own).')
  return RemoteEngine.connect(await connector())
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
  if (choice === 'webgpu' || choice === 'webgl') {
    const engine = await connectGpuWorker()
    if (engine.hello.backend !== choice)
      return remote(engine, `${choice} was asked for, but the GPU worker runs ${engine.hello.backend} (it prefers WebGPU where the browser has it).`)
    return remote(engine)
  }
  if (choice !== 'auto') return local(await initBackend({ ...options, force: choice }), options)

  const native = await initBackend(options)
  if (native.device.startsWith('GPU')) return local(native, options)
  if (!gpuWorkerConnector()) return local(native, options)
  let engine: RemoteEngine
  try {
    engine = await connectGpuWorker()
  } catch (err) {
    return local({ ...native, reason: [native.reason, `the GPU worker did not start: ${(err as Error).message}`].filter(Boolean).join('; ') }, options)
  }
  if (!engine.hello.software) return remote(engine)
  await engine.close()
  const why = `the GPU worker found only a software renderer (${engine.hello.renderer}), which is slower than the CPU backends; choose webgl by hand to use it anyway`
  return local({ ...native, reason: [native.reason, why].filter(Boolean).join('; ') }, options)
}
