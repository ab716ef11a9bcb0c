// The real GPU worker page (out/renderer/gpu-worker.html) in Chromium, connected to the job process's side
// (RemoteEngine) through a test bridge that relays the same messages Electron's MessagePorts carry: Node →
// page with page.evaluate, page → Node with an exposed function. Float32Arrays cross as base64.
// Chromium runs WebGL2 on SwiftShader here (software): a correctness check, never a GPU figure.
import { createServer, type Server } from 'node:http'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { GPU_WORKER_PORT_MESSAGE, type FromGpuWorker, type ToGpuWorker } from '../../src/shared/gpu-worker'
import type { EnginePort } from '../../src/main/core/model/remote-engine'
import { chromiumPath } from './browser'
import { rendererDir } from './webhost'

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' }

/** Serves the built renderer folder on loopback (module scripts do not load from file:// in Chromium). */
async function serveRenderer(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    try {
      const body = await readFile(join(rendererDir, path))
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return { server, origin: `http://127.0.0.1:${address.port}` }
}

// The codec, as source, so the page runs the same one (page.evaluate cannot take closures).
const codecSource = `(() => {
  const toBase64 = (bytes) => { let s = ''; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)); return btoa(s) }
  const fromBase64 = (text) => { const s = atob(text); const bytes = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i); return bytes }
  return {
    encode: (value) => JSON.stringify(value, (k, v) => v instanceof Float32Array ? { __f32: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) } : v),
    decode: (text) => JSON.parse(text, (k, v) => v && typeof v === 'object' && typeof v.__f32 === 'string' ? new Float32Array(fromBase64(v.__f32).buffer) : v)
  }
})()`

// The page's end of the bridge: one MessageChannel per connection, its port2 handed to the page as the preload does.
// It also notes every WebGL2 context the page creates, so a test can lose tfjs's.
const bridgeSource = `window.__contexts = [];
for (const Canvas of [HTMLCanvasElement, OffscreenCanvas]) {
  const getContext = Canvas.prototype.getContext
  Canvas.prototype.getContext = function (kind, ...rest) {
    const context = getContext.call(this, kind, ...rest)
    if (kind === 'webgl2' && context) window.__contexts.push(context)
    return context
  }
}
window.__bridge = (() => {
  const codec = ${codecSource}
  const ports = []
  return {
    connect(c, portMessage) {
      const channel = new MessageChannel()
      ports[c] = channel.port1
      channel.port1.onmessage = (e) => window.leafsegFromWorker(c, codec.encode(e.data))
      window.postMessage(portMessage, '*', [channel.port2])
    },
    send(c, text) { ports[c].postMessage(codec.decode(text)) },
    loseContext() {
      const live = window.__contexts.filter((gl) => !gl.isContextLost())
      if (live.length !== 1) throw new Error('expected one live WebGL2 context (tfjs), found ' + live.length)
      live[0].getExtension('WEBGL_lose_context').loseContext()
    },
    close(c) { ports[c].close() }
  }
})()`

/** The bridge inside the page, typed without the DOM (page.evaluate callbacks run there, so they spell this out). */
interface PageBridge {
  __bridge: { connect(c: number, portMessage: string): void; send(c: number, text: string): void; close(c: number): void; loseContext(): void }
}

function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v instanceof Float32Array ? { __f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v
  )
}

function decode(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    const f = v as { __f32?: unknown } | null
    if (f && typeof f === 'object' && typeof f.__f32 === 'string') {
      const bytes = Buffer.from(f.__f32, 'base64')
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
    }
    return v
  })
}

export interface GpuWorkerPage {
  browser: Browser
  page: Page
  /** A fresh connection to the page, as the app's main process hands the job process one per job. */
  connect(): Promise<EnginePort>
  /** Lose tfjs's WebGL context, as a GPU reset or driver crash does (WEBGL_lose_context). */
  loseContext(): Promise<void>
  close(): Promise<void>
}

/** Chromium flags that give headless Chromium WebGL2 on SwiftShader (no --disable-gpu). */
export const webGlFlags = [
  '--headless',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run'
]

export async function openGpuWorkerPage(options: { maxTextureSize?: number } = {}): Promise<GpuWorkerPage> {
  if (!existsSync(join(rendererDir, 'gpu-worker.html')))
    throw new Error(`The GPU worker page is not built (${rendererDir}/gpu-worker.html): run \`npx electron-vite build\` first.`)
  const { server, origin } = await serveRenderer()
  const browser = await chromium.launch({ executablePath: chromiumPath, args: webGlFlags })
  const page = await browser.newPage()
  const listeners = new Map<number, (m: FromGpuWorker) => void>()
  await page.exposeFunction('leafsegFromWorker', (connection: number, text: string) => listeners.get(connection)?.(decode(text) as FromGpuWorker))
  await page.addInitScript(bridgeSource)
  await page.goto(`${origin}/gpu-worker.html${options.maxTextureSize ? `?maxTextureSize=${options.maxTextureSize}` : ''}`)
  let connections = 0
  return {
    browser,
    page,
    async connect() {
      const connection = connections++
      await page.evaluate(([c, m]) => (globalThis as unknown as PageBridge).__bridge.connect(c, m), [connection, GPU_WORKER_PORT_MESSAGE] as const)
      return {
        postMessage(message: ToGpuWorker) {
          // A failure means the page closed: the engine hears it through onClose.
          void page
            .evaluate(([c, text]) => (globalThis as unknown as PageBridge).__bridge.send(c, text), [connection, encode(message)] as const)
            .catch(() => undefined)
        },
        listen(onMessage, onClose) {
          listeners.set(connection, onMessage)
          page.once('close', onClose)
          page.once('crash', onClose)
        },
        close() {
          listeners.delete(connection)
          void page.evaluate((c) => (globalThis as unknown as PageBridge).__bridge.close(c), connection).catch(() => undefined)
        }
      }
    },
    async loseContext() {
      await page.evaluate(() => (globalThis as unknown as PageBridge).__bridge.loseContext())
    },
    async close() {
      await browser.close()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
