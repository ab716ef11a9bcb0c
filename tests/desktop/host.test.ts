// The built desktop host (out/main, out/preload, out/renderer) under a stand-in `electron` module: what it
// registers, the windows it opens, the files it points at, the bridge the preload exposes, and the built
// renderer in Chromium under the app's CSP, driven through the built preload and main bundles.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import * as electron from './electron-double'
import { filesUnder, loadMainBundle, mainDir, preloadDir, rendererDir, runPreload } from './bundles'
import { apiMethods } from '../../src/main/core/service/schemas'
import { ipcChannels, type PreloadBridge } from '../../src/shared/api'
import type { JobInfo } from '../../src/shared/api/jobs'
import { browserMissing, launchBrowser, screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'

// The bridge's members, checked against the contract by the compiler: a member added to PreloadBridge fails here.
const bridgeMembers = ['invoke', 'on', 'pathForFile'] as const
const allMembers: Exclude<keyof PreloadBridge, (typeof bridgeMembers)[number]> extends never ? true : false = true
void allMembers
/** The global the renderer reads the bridge from (src/renderer/src/lib/client.ts). */
const bridgeGlobal = 'leafseg'

let bridge: PreloadBridge
let mainWindow: (typeof electron.windows)[number]

type Reply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }
async function call<T>(method: string, args: unknown): Promise<T> {
  const reply = (await bridge.invoke(method, args)) as Reply
  if (!reply.ok) throw new Error(`${method}: ${reply.error.code}: ${reply.error.message}`)
  return reply.value as T
}

/** Waits for a job to end, from the job.updated events that reach the preload's listeners. */
function jobEnd(id: number): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = bridge.on((event, payload) => {
      const job = payload as JobInfo
      if (event === 'job.updated' && job.id === id && !['queued', 'running'].includes(job.status)) {
        off()
        resolve(job)
      }
    })
  })
}

before(async () => {
  electron.settings.userData = tempDir('leafseg-electron-userdata-')
  process.env.LEAFSEG_DEV = '1' // the test job, as in development
  await loadMainBundle()
  mainWindow = electron.windows[0]
  assert.ok(mainWindow, 'the main bundle opened no window')
  runPreload(mainWindow.options.webPreferences.preload, mainWindow)
  bridge = electron.exposed.get(bridgeGlobal) as PreloadBridge
})

after(async () => {
  electron.app.emit('before-quit')
  electron.app.emit('window-all-closed')
  for (const f of electron.forks) f.process.kill()
})

test('every window keeps the renderer isolated and sandboxed, and loads the built page with a built preload', () => {
  assert.ok(electron.windows.length >= 1)
  const preloads = readdirSync(preloadDir).map((f) => join(preloadDir, f))
  for (const [i, w] of electron.windows.entries()) {
    const prefs = w.options.webPreferences ?? {}
    const which = `window ${i + 1} (${w.options.title ?? 'untitled'})`
    assert.notEqual(prefs.contextIsolation, false, `${which}: contextIsolation`)
    assert.equal(prefs.sandbox, true, `${which}: sandbox must be on`)
    assert.notEqual(prefs.nodeIntegration, true, `${which}: nodeIntegration`)
    assert.notEqual(prefs.nodeIntegrationInWorker, true, `${which}: nodeIntegrationInWorker`)
    assert.notEqual(prefs.nodeIntegrationInSubFrames, true, `${which}: nodeIntegrationInSubFrames`)
    assert.notEqual(prefs.webSecurity, false, `${which}: webSecurity`)
    assert.notEqual(prefs.allowRunningInsecureContent, true, `${which}: allowRunningInsecureContent`)
    assert.notEqual(prefs.experimentalFeatures, true, `${which}: experimentalFeatures`)
    if (prefs.preload !== undefined) assert.ok(preloads.includes(prefs.preload), `${which}: preload ${prefs.preload} is not one of out/preload/*`)
    // Without a dev server, every page is a built file under out/renderer.
    assert.ok(w.loaded, `${which} loaded nothing`)
    const file = w.loaded.file ?? fileURLToPath(w.loaded.url!)
    assert.ok(file.startsWith(rendererDir + sep) && existsSync(file), `${which} loads ${file}, which is not a built page in out/renderer`)
  }
  assert.ok(mainWindow.options.webPreferences.preload, 'the main window has the preload bridge')
})

test('IPC: one handler per contract channel, every API method reachable through it, nothing else', async () => {
  const channels: string[] = Object.values(ipcChannels)
  for (const [channel, handlers] of [...electron.ipcHandlers, ...electron.ipcListeners]) {
    assert.ok(channels.includes(channel), `${channel} is not a channel of the contract (${channels.join(', ')})`)
    assert.equal(handlers.length, 1, `${channel} is registered ${handlers.length} times`)
  }
  assert.deepEqual([...electron.ipcHandlers.keys()], [ipcChannels.invoke])
  assert.ok(!electron.ipcListeners.has(ipcChannels.invoke) && !electron.ipcHandlers.has(ipcChannels.event), 'the channels keep their directions')

  // Every method of the contract is known to the adapter (a malformed argument is refused as such, not as
  // an unknown method); names outside it are unknown, prototype names included.
  const unknown = /Unknown API method/
  for (const method of apiMethods) {
    const reply = (await bridge.invoke(method, { notAnArgument: 1 })) as Reply
    if (!reply.ok) assert.doesNotMatch(reply.error.message, unknown, method)
  }
  for (const method of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'projects.delete', 'eval', ''])
    assert.match(((await bridge.invoke(method, {})) as Reply & { ok: false }).error.message, unknown, method)
  assert.equal(((await bridge.invoke(42 as unknown as string, {})) as Reply & { ok: false }).error.code, 'invalid_argument')

  // A frame other than the app's own page is refused before anything runs.
  const handler = electron.ipcHandlers.get(ipcChannels.invoke)![0]
  for (const url of ['https://example.org/', 'file:///tmp/other.html'])
    assert.deepEqual(((await handler({ senderFrame: { url } }, 'app.info', {})) as Reply & { ok: false }).error.code, 'forbidden', url)
  assert.deepEqual(((await handler({ senderFrame: null }, 'app.info', {})) as Reply & { ok: false }).error.code, 'forbidden')
})

test('the preload exposes exactly the contract’s bridge, as functions, and runs under the sandbox', async () => {
  const preloads = readdirSync(preloadDir)
  assert.ok(preloads.length >= 1)
  assert.ok(
    preloads.every((f) => f.endsWith('.cjs')),
    `sandboxed preloads are CommonJS: ${preloads.join(', ')}`
  )
  assert.deepEqual([...electron.exposed.keys()], [bridgeGlobal])
  assert.deepEqual(Object.keys(bridge).sort(), [...bridgeMembers].sort())
  for (const m of bridgeMembers) assert.equal(typeof bridge[m], 'function', m)
  // Nothing of Node or Electron rides along: no prototype but Object's, no properties on the functions.
  assert.equal(Object.prototype.toString.call(bridge), '[object Object]')
  assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(bridge)), null, 'a plain object')
  for (const m of bridgeMembers) assert.deepEqual(Object.keys(bridge[m]), [], `${m} carries properties`)

  const info = await call<{ host: string; nativeDialogs: boolean }>('app.info', {})
  assert.equal(info.host, 'electron')
  assert.equal(info.nativeDialogs, true)
  assert.equal(bridge.pathForFile({ path: '/data/leaf.png' } as unknown as File), '/data/leaf.png')

  // Events reach a subscriber until it unsubscribes.
  const seen: string[] = []
  const off = bridge.on((event) => seen.push(event))
  mainWindow.webContents.send(ipcChannels.event, 'project.changed', null)
  off()
  mainWindow.webContents.send(ipcChannels.event, 'project.changed', null)
  assert.deepEqual(seen, ['project.changed'])
})

test('every file the bundles refer to is in out/, and every page’s scripts and styles too', () => {
  const missing: string[] = []
  for (const file of filesUnder(mainDir).filter((f) => f.endsWith('.js'))) {
    const path = join(mainDir, file)
    const source = readFileSync(path, 'utf8')
    // Imports and paths joined to the module's own folder are relative to the file: in a chunk, __dirname is out/main/chunks.
    for (const [, spec] of source.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) if (!existsSync(resolve(dirname(path), spec))) missing.push(`${file} imports ${spec}`)
    for (const [, name] of source.matchAll(/join\(\s*(?:__dirname|import\.meta\.dirname)\s*,\s*"([^"]+)"\s*\)/g))
      if (!existsSync(resolve(dirname(path), name))) missing.push(`${file} joins __dirname with ${name}`)
    // Other relative paths to built files (another page, another bundle's entry), wherever they are joined.
    for (const [, name] of source.matchAll(/"(\.{1,2}\/[\w./-]+\.(?:js|cjs|mjs|html))"/g))
      if (!existsSync(resolve(mainDir, name)) && !existsSync(resolve(dirname(path), name))) missing.push(`${file} names ${name}`)
  }
  const pages = filesUnder(rendererDir).filter((f) => f.endsWith('.html'))
  assert.ok(pages.includes('index.html'))
  for (const page of pages) {
    const html = readFileSync(join(rendererDir, page), 'utf8')
    for (const [, ref] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      if (/^(data:|https?:|#)/.test(ref)) continue
      if (!existsSync(resolve(rendererDir, dirname(page), ref))) missing.push(`${page} loads ${ref}`)
    }
  }
  assert.deepEqual(missing, [])
  // The helper entries the core forks by name are built.
  for (const entry of ['job-process.js', 'matte-process.js']) assert.ok(statSync(join(mainDir, entry)).isFile(), entry)
})

let photoThumbnail: string

test('a project, an import and a job run through the built main bundle, its job in a utility process', async () => {
  // The desktop app takes only paths the user chose: both folders come through the (stand-in) native dialog.
  const choose = async (dir: string): Promise<string> => {
    electron.settings.pickedFolder = dir
    return (await call<{ path: string }>('dialog.pickFolder', { title: 'Choose' })).path
  }
  const projectDir = await choose(join(tempDir(), 'Desktop project'))
  await call('projects.create', { dir: projectDir, name: 'Desktop' })
  const dataset = await call<{ id: number }>('datasets.create', { name: 'Leaves' })
  const photos = await choose(join(tempDir(), 'photos'))
  for (const s of await makePhotos(photos, 2, { width: 40, height: 32 })) rmSync(s.maskPath)
  const job = await call<JobInfo>('datasets.importPhotos', { datasetId: dataset.id, paths: [photos] })
  const done = await jobEnd(job.id)
  assert.equal(done.status, 'succeeded', done.error ?? '')

  // The job ran in the bundle the main process forked, as Electron would start it.
  assert.equal(electron.forks.length, 1)
  const fork = electron.forks[0]
  assert.equal(dirname(fork.modulePath), mainDir)
  assert.ok(existsSync(fork.modulePath), fork.modulePath)
  assert.ok(fork.process.pid)

  const list = await call<{ photos: { thumbnail: string }[] }>('datasets.photos', { datasetId: dataset.id, offset: 0, limit: 10, filter: {}, sort: 'name' })
  assert.equal(list.photos.length, 2)
  photoThumbnail = list.photos[0].thumbnail
})

test('the project file protocol serves project files and nothing outside the project’s content', async () => {
  assert.equal(electron.protocolHandlers.size, 1)
  const [scheme, handle] = [...electron.protocolHandlers][0]
  const privileged = electron.privilegedSchemes.find((s) => s.scheme === scheme)
  assert.ok(privileged, `${scheme} is registered as privileged before the app is ready`)
  assert.equal(privileged.privileges?.secure, true)
  const thumb = await handle(new Request(`${scheme}://project/${photoThumbnail}`))
  assert.equal(thumb.status, 200, `${photoThumbnail}: ${await thumb.clone().text()}`)
  assert.match(thumb.headers.get('content-type') ?? '', /^image\//)
  assert.ok((await thumb.arrayBuffer()).byteLength > 100)
  for (const path of ['leafseg.sqlite', '../../etc/passwd', '%2e%2e/%2e%2e/etc/passwd', 'nothing/here.png']) {
    const res = await handle(new Request(`${scheme}://project/${path}`))
    assert.notEqual(res.status, 200, path)
  }
})

/** The renderer's CSP: the pages' meta tags, plus any header the main process adds to responses. */
function rendererCsp(): { meta: string; header: string | null } {
  const html = readFileSync(join(rendererDir, 'index.html'), 'utf8')
  const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1]
  assert.ok(meta, 'out/renderer/index.html has no CSP meta tag')
  let header: string | null = null
  for (const c of electron.calls.filter((c) => c.path.endsWith('webRequest.onHeadersReceived'))) {
    const listener = c.args.find((a) => typeof a === 'function') as (
      d: unknown,
      cb: (r: { responseHeaders?: Record<string, string | string[]> }) => void
    ) => void
    listener({ url: mainWindow.webContents.url, resourceType: 'mainFrame', responseHeaders: {} }, ({ responseHeaders = {} }) => {
      const key = Object.keys(responseHeaders).find((k) => k.toLowerCase() === 'content-security-policy')
      if (key) header = ([] as string[]).concat(responseHeaders[key]).join(', ')
    })
  }
  return { meta, header }
}

/** Serves out/renderer with the main process's CSP header, standing in for the file: page Electron loads. */
async function serveRenderer(header: string | null): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.wasm': 'application/wasm',
    '.json': 'application/json'
  }
  const server = createServer((req, res) => {
    const path = resolve(rendererDir, '.' + decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/\/$/, '/index.html')))
    if (!path.startsWith(rendererDir + sep) || !existsSync(path)) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', ...(header ? { 'content-security-policy': header } : {}) })
    res.end(readFileSync(path))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html` }
}

test('the built renderer, driven through the built preload and main, loads nothing its CSP forbids', { skip: browserMissing() ?? false }, async () => {
  const { meta, header } = rendererCsp()
  assert.doesNotMatch(meta, /'unsafe-eval'/)
  assert.match(meta, /script-src 'self'(;|$)/)
  const { server, url } = await serveRenderer(header)
  const browser = await launchBrowser()
  const violations: string[] = []
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } })
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) violations.push(m.text())
    })
    page.on('pageerror', (e) => violations.push(`page error: ${e.message}`))
    // The page gets what the preload exposes, each call crossing into the built preload and main in this process.
    await page.exposeBinding('__bridgeInvoke', (_source, method: string, args: unknown) => bridge.invoke(method, args))
    await page.addInitScript({
      content: `
        window.__violations = []
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI))
        const listeners = new Set()
        window.__bridgeEmit = (event, payload) => listeners.forEach((l) => l(event, payload))
        window[${JSON.stringify(bridgeGlobal)}] = Object.freeze({
          invoke: (method, args) => window.__bridgeInvoke(method, args),
          on: (l) => (listeners.add(l), () => listeners.delete(l)),
          pathForFile: () => ''
        })`
    })
    const stopEvents = bridge.on(
      (event, payload) => void page.evaluate(`window.__bridgeEmit(${JSON.stringify(event)}, ${JSON.stringify(payload)})`).catch(() => {})
    )

    await call('projects.close', {})
    await page.goto(url)
    await page.getByRole('heading', { name: 'New project' }).waitFor()
    await screenshot(page, 'desktop-01-start')

    // A new project through the native folder dialog (the stand-in answers it), then every view.
    const dir = join(tempDir(), 'Chosen folder')
    electron.settings.pickedFolder = dir
    await page.getByTestId('new-name').fill('Desktop CSP')
    await page.getByTestId('new-dir').locator('..').getByRole('button', { name: 'Choose…' }).click()
    await page.waitForFunction(`document.querySelector('[data-testid="new-dir"]').value === ${JSON.stringify(dir)}`)
    await page.getByTestId('create-project').click()
    await page.getByTestId('project-name').filter({ hasText: 'Desktop CSP' }).waitFor()
    for (const view of ['training', 'runs', 'compare', 'predict', 'datasets']) {
      await page.getByTestId(`nav-${view}`).click()
      await page.getByTestId(`view-${view}`).waitFor()
    }
    await page.getByTestId('start-demo-job').click()
    await page.locator('[data-testid="job"][data-status="succeeded"]').first().waitFor({ timeout: 30_000 })
    await screenshot(page, 'desktop-02-project-job-done')
    stopEvents()
    violations.push(...((await page.evaluate('window.__violations')) as string[]))
  } finally {
    await browser.close()
    server.close()
  }
  assert.deepEqual(violations, [])
})
