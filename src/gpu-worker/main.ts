// The GPU worker page: tfjs on WebGL2, serving TrainingEngine calls from the job process over a MessagePort
// (model/engine-server.ts). It exists for GPUs that have WebGL2 but no WebGPU adapter: WebGPU itself runs in the
// job process through Dawn (model/webgpu-thread.ts), in every host. No Electron or Node API: the app's preload
// hands it the port with window.postMessage, and tests drive the same page in Chromium the same way.
import * as tf from '@tensorflow/tfjs'
import { GpuDeviceWatch, serveEngine, SOFTWARE_RENDERER } from '../main/core/model/engine-server'
import { GPU_WORKER_PORT_MESSAGE, type GpuWorkerFailure, type GpuWorkerHello, type ToGpuWorker } from '../shared/gpu-worker'

/** tfjs's WebGL context: a lost context makes WebGL calls do nothing, so results are checked against it. */
let webgl: { gl: WebGL2RenderingContext; renderer: string } | null = null
const watch = new GpuDeviceWatch(() => (webgl?.gl.isContextLost() ? `The browser lost the WebGL context of the GPU (${webgl.renderer}).` : null))

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
  if (!probe) return { kind: 'failed', message: 'This browser has no WebGL2, so the GPU worker cannot run.' }
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
  ;(gl.canvas as HTMLCanvasElement).addEventListener('webglcontextlost', () =>
    watch.markLost(`The browser lost the WebGL context of the GPU (${probe.renderer}).`)
  )
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
    return await startWebGl()
  } catch (err) {
    return { kind: 'failed', message: `The GPU worker could not start tfjs: ${(err as Error).message}` }
  }
}

const started = start()

window.addEventListener('message', (e: MessageEvent) => {
  // Only from this window itself (the preload's isolated world, or a test bridge), never from a frame.
  if (e.source !== window || e.data !== GPU_WORKER_PORT_MESSAGE || !e.ports[0]) return
  const port = e.ports[0]
  serveEngine(
    {
      send: (m, transfer) => port.postMessage(m, transfer),
      listen(onMessage) {
        port.onmessage = (event: MessageEvent<ToGpuWorker>) => onMessage(event.data)
        port.start()
      }
    },
    started,
    watch
  )
})
