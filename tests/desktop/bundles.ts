// Loading the built desktop bundles (out/, from `electron-vite build`) with the electron stand-in.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import vm from 'node:vm'
import * as electron from './electron-double'
import { waitFor } from '../helpers/wait'

export const outDir = fileURLToPath(new URL('../../out', import.meta.url))
export const mainDir = join(outDir, 'main')
export const preloadDir = join(outDir, 'preload')
export const rendererDir = join(outDir, 'renderer')

/** Fails with what to do when the app is not built. */
export function requireBuilt(): void {
  for (const entry of [join(mainDir, 'index.js'), join(mainDir, 'job-process.js'), join(rendererDir, 'index.html')])
    if (!existsSync(entry)) throw new Error(`The app is not built (${entry} is missing): run \`npx electron-vite build\` first (npm test does).`)
}

/** Files under `dir`, relative to it, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
}

// `electron` (and its electron/main, electron/renderer, electron/common aliases) resolves to the stand-in.
const hooks = `
let target
export function initialize(data) { target = data.target }
export async function resolve(specifier, context, next) {
  if (/^electron(\\/(main|renderer|common))?$/.test(specifier)) return { url: target, shortCircuit: true }
  return next(specifier, context)
}`

/** Imports out/main/index.js as Electron would run it, with `electron` being the stand-in; waits for app.whenReady's work. */
export async function loadMainBundle(): Promise<void> {
  requireBuilt()
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { target: new URL('./electron-double.ts', import.meta.url).href } })
  await import(pathToFileURL(join(mainDir, 'index.js')).href)
  // The bundle does its set-up in app.whenReady().then(…), which ends by opening the main window.
  await waitFor(() => electron.windows.length > 0, { what: 'the main bundle to open its window (its app.whenReady work)' })
}

/** Node modules a sandboxed preload may require besides electron (Electron's sandboxed-renderer list). */
const sandboxedPreloadModules = ['events', 'timers', 'url']
const nodeRequire = createRequire(import.meta.url)

/**
 * Runs a built preload script the way a sandboxed renderer does: CommonJS, with a `require` that knows only
 * `electron` and Electron's few sandbox modules, and no Node globals. Its IPC goes out as from `window`.
 */
export function runPreload(file: string, window: (typeof electron.windows)[number]): void {
  electron.preloadHost.window = window
  const sandboxRequire = (id: string): unknown => {
    if (id === 'electron' || id === 'electron/renderer') return electron
    const bare = id.replace(/^node:/, '')
    if (sandboxedPreloadModules.includes(bare)) return nodeRequire(bare)
    throw new Error(`${file} requires “${id}”, which a sandboxed preload cannot load (only electron and ${sandboxedPreloadModules.join(', ')})`)
  }
  const module = { exports: {} }
  const context = vm.createContext({ require: sandboxRequire, module, exports: module.exports, console })
  vm.runInContext(readFileSync(file, 'utf8'), context, { filename: file })
}
