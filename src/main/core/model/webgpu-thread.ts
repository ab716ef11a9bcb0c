// The WebGPU thread: tfjs on WebGPU through Dawn (the optional `webgpu` package: Chromium's WebGPU for Node), so
// the job process, the web host and the command line train on the machine's own Vulkan, Metal or D3D12 GPU with
// no CUDA. A worker thread of its own, because a tfjs backend is per thread: the wasm work of other jobs in the
// same process is not switched to WebGPU under their feet. It serves the GPU engine protocol (engine-server.ts)
// on its parent port; webgpu-connector.ts starts it.
import { parentPort, workerData } from 'node:worker_threads'
import { tf } from './backend'
import { GpuDeviceWatch, serveEngine, SOFTWARE_RENDERER } from './engine-server'
import type { GpuWorkerFailure, GpuWorkerHello, ToGpuWorker } from '../../../shared/gpu-worker'
import type { WebGpuThreadData } from './webgpu-connector'

const port = parentPort!
const options = (workerData ?? {}) as WebGpuThreadData

interface Adapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean }
  isFallbackAdapter?: boolean
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }
}
interface Device {
  lost: Promise<{ reason: string; message: string }>
  destroy(): void
}

let device: Device | null = null
const watch = new GpuDeviceWatch()

async function start(): Promise<GpuWorkerHello | GpuWorkerFailure> {
  let dawn: { create(flags: string[]): { requestAdapter(o?: object): Promise<Adapter | null> }; globals: object }
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn
  } catch (err) {
    return { kind: 'failed', message: `WebGPU is not available: the optional webgpu package did not load (${(err as Error).message.split('\n')[0]}).` }
  }
  // tfjs-backend-webgpu looks for navigator.gpu when it is imported, so Dawn's globals come first.
  Object.assign(globalThis, dawn.globals)
  const gpu = dawn.create([])
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter)
    return {
      kind: 'failed',
      message: 'WebGPU found no adapter: this machine has no GPU driver Dawn can use (Vulkan on Linux, Metal on macOS, D3D12 or Vulkan on Windows).'
    }
  await import('@tensorflow/tfjs-backend-webgpu')
  if (!(await tf.setBackend('webgpu'))) return { kind: 'failed', message: 'tfjs could not start its WebGPU backend on this adapter.' }
  const { vendor, architecture, device: name, description } = adapter.info
  const renderer = [vendor, architecture, name, description].filter(Boolean).join(' ') || 'WebGPU adapter (no details given)'
  device = (tf.backend() as unknown as { device: Device }).device
  void device.lost.then((l) => watch.markLost(`The GPU device was lost (${l.message || l.reason || 'no reason given'}).`))
  return {
    backend: 'webgpu',
    renderer,
    adapter: { vendor, architecture, device: name, description },
    software: adapter.info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || SOFTWARE_RENDERER.test(renderer),
    maxTextureSize: null,
    maxBufferBytes: Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize),
    floatRenderTargets: true
  }
}

const started = start().catch((err: Error): GpuWorkerFailure => ({ kind: 'failed', message: `WebGPU could not start: ${err.message}` }))

let trainSteps = 0
serveEngine(
  {
    send: (m, transfer) => port.postMessage(m, transfer),
    listen(onMessage) {
      port.on('message', (m: ToGpuWorker) => {
        // Tests rehearse a lost GPU: the device is destroyed as this training step arrives.
        if (m.type === 'call' && m.call === 'trainStep' && ++trainSteps === options.loseDeviceAtStep) device?.destroy()
        onMessage(m)
      })
    }
  },
  started,
  watch
)
