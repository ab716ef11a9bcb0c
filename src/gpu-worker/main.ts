// The GPU worker page: tfjs on WebGPU (where navigator.gpu gives an adapter) or WebGL2, serving TrainingEngine
// calls from the job process over a MessagePort. No Electron or Node API: the app's preload hands it the port
// with window.postMessage, and tests drive the same page in Chromium the same way.
import * as tf from '@tensorflow/tfjs'
import { TfjsEngine } from '../main/core/model/engine'
import { GPU_WORKER_PORT_MESSAGE, type FromGpuWorker, type GpuWorkerFailure, type GpuWorkerHello, type ToGpuWorker, type WeightSet } from '../shared/gpu-worker'

/** Renderers that draw with the CPU: never called a GPU. */
const SOFTWARE_RENDERER = /SwiftShader|llvmpipe|lavapipe|softpipe|Basic Render Driver|Microsoft Basic|software/i

let contextLost: GpuWorkerFailure | null = null
const lostListeners = new Set<(failure: GpuWorkerFailure) => void>()
/** tfjs's WebGL context: a lost context makes WebGL calls do nothing, so results are checked against it. */
let webgl: { gl: WebGL2RenderingContext; renderer: string } | null = null

/** Whether the device is gone (the event may not have been delivered yet: ask the context too). */
function lost(): GpuWorkerFailure | null {
  if (!contextLost && webgl?.gl.isContextLost()) markLost(`The browser lost the WebGL context of the GPU (${webgl.renderer}).`)
  return contextLost
}

function markLost(message: string): void {
  contextLost ??= { kind: 'context-lost', message }
  for (const l of lostListeners) l(contextLost)
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string }
  isFallbackAdapter?: boolean
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }
}

async function startWebGpu(): Promise<GpuWorkerHello | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu
  if (!gpu) return null
  const adapter = await gpu.requestAdapter().catch(() => null)
  if (!adapter) return null
  await import('@tensorflow/tfjs-backend-webgpu')
  if (!(await tf.setBackend('webgpu'))) return null
  const info = adapter.info ?? {}
  const renderer = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'WebGPU adapter (no details given)'
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string }> } }).device
  void device?.lost?.then((l) => markLost(`The GPU device was lost (${l.message || 'no reason given'}).`))
  return {
    backend: 'webgpu',
    renderer,
    software: adapter.isFallbackAdapter === true || SOFTWARE_RENDERER.test(renderer),
    maxTextureSize: null,
    maxBufferBytes: Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize),
    floatRenderTargets: true
  }
}

/** Query the WebGL2 context tfjs will use, with a throw-away canvas. */
function probeWebGl(): { renderer: string; maxTextureSize: number; floatRenderTargets: boolean } | null {
  const gl = document.createElement('canvas').getContext('webgl2')
  if (!gl) return null
  const debug = gl.getExtension('WEBGL_debug_renderer_info')
  const renderer = String(debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
  const probe = {
    renderer,
    maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number,
    floatRenderTargets: gl.getExtension('EXT_color_buffer_float') != null
  }
  gl.getExtension('WEBGL_lose_context')?.loseContext() // free it: browsers allow few contexts
  return probe
}

async function startWebGl(): Promise<GpuWorkerHello | GpuWorkerFailure> {
  const probe = probeWebGl()
  if (!probe) return { kind: 'failed', message: 'This browser has neither WebGPU nor WebGL2, so the GPU worker cannot run.' }
  if (!probe.floatRenderTargets)
    return {
      kind: 'no-float-textures',
      message: `The GPU (${probe.renderer}) cannot render to float textures (no EXT_color_buffer_float), which training on WebGL2 needs.`
    }
  // A smaller texture limit than the GPU's, to rehearse a small GPU (tests): ?maxTextureSize=N.
  const limit = Number(new URLSearchParams(location.search).get('maxTextureSize')) || probe.maxTextureSize
  tf.env().set('WEBGL_MAX_TEXTURE_SIZE', Math.min(limit, probe.maxTextureSize))
  if (!(await tf.setBackend('webgl'))) return { kind: 'failed', message: `tfjs could not start WebGL2 on ${probe.renderer}.` }
  const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl
  webgl = { gl, renderer: probe.renderer }
  ;(gl.canvas as HTMLCanvasElement).addEventListener('webglcontextlost', () => markLost(`The browser lost the WebGL context of the GPU (${probe.renderer}).`))
  return {
    backend: 'webgl',
    renderer: probe.renderer,
    software: SOFTWARE_RENDERER.test(probe.renderer),
    maxTextureSize: Math.min(limit, probe.maxTextureSize),
    maxBufferBytes: null,
    floatRenderTargets: true
  }
}

async function start(): Promise<GpuWorkerHello | GpuWorkerFailure> {
  try {
    return (await startWebGpu()) ?? (await startWebGl())
  } catch (err) {
    return { kind: 'failed', message: `The GPU worker could not start tfjs: ${(err as Error).message}` }
  }
}

const started = start()

function classify(err: unknown): GpuWorkerFailure {
  const gone = lost()
  if (gone) return gone
  const message = err instanceof Error ? err.message : String(err)
  if (/context.?lost|CONTEXT_LOST|device (was )?lost/i.test(message)) return { kind: 'context-lost', message }
  if (
    /greater than WebGL maximum|out of memory|\bOOM\b|Failed to create WebGL texture|allocation failed|failed to allocate|exceeds the max buffer size|maxBufferSize/i.test(
      message
    )
  )
    return { kind: 'out-of-memory', message }
  return { kind: 'failed', message }
}

/** The result's buffers, moved rather than copied. */
function transferables(value: unknown): Transferable[] {
  if (value instanceof Float32Array) return [value.buffer]
  const set = value as WeightSet | null
  if (set && set.data instanceof Float32Array) return [set.data.buffer]
  return []
}

/** Serve one connection: its own engine, calls answered in order. */
function serve(port: MessagePort): void {
  const engine = new TfjsEngine()
  const send = (m: FromGpuWorker, transfer: Transferable[] = []) => port.postMessage(m, transfer)
  const onLost = (failure: GpuWorkerFailure) => send({ type: 'lost', failure })
  lostListeners.add(onLost)
  let queue = Promise.resolve()
  port.onmessage = (e: MessageEvent<ToGpuWorker>) => {
    const m = e.data
    queue = queue.then(async () => {
      const ready = await started
      if (!('backend' in ready)) return send({ type: 'error', id: m.id, failure: ready })
      if (m.type === 'hello') return send({ type: 'hello', id: m.id, hello: ready })
      if (lost()) return send({ type: 'error', id: m.id, failure: contextLost! })
      try {
        const value: unknown = await (engine[m.call] as (...args: unknown[]) => Promise<unknown>)(...m.args)
        // A context lost during the call leaves zeros where results should be: never send those.
        if (lost()) return send({ type: 'error', id: m.id, failure: contextLost! })
        send({ type: 'result', id: m.id, value }, transferables(value))
      } catch (err) {
        send({ type: 'error', id: m.id, failure: classify(err) })
      }
      if (m.call === 'dispose') lostListeners.delete(onLost)
    })
  }
  port.start()
}

window.addEventListener('message', (e: MessageEvent) => {
  // Only from this window itself (the preload's isolated world, or a test bridge), never from a frame.
  if (e.source === window && e.data === GPU_WORKER_PORT_MESSAGE && e.ports[0]) serve(e.ports[0])
})
