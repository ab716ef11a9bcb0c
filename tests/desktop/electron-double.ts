// A stand-in for the `electron` module, for loading the built main and preload bundles under plain Node.
// It records what the bundles do (windows, IPC handlers, protocol handlers, utility processes, exposed
// bridges) and wires main and preload together as Electron would: ipcRenderer.invoke reaches the handler
// that ipcMain.handle registered, webContents.send reaches ipcRenderer's listeners. utilityProcess.fork
// really starts the module, in a Node child with a process.parentPort. Anything it does not model is a
// recorder: every call is logged in `calls` and returns another recorder, so new Electron calls in the
// host do not break the tests, and the tests can still find them.
import { EventEmitter } from 'node:events'
import { pathToFileURL } from 'node:url'
import { NodeUtilityProcess } from './utility-process'

export interface Call {
  path: string
  args: unknown[]
}
type Listener = (...args: any[]) => unknown

/** Every call the host made into the stand-in, in order (modelled or not). */
export const calls: Call[] = []
/** Set by the test before it loads the main bundle. */
export const settings = { userData: '', env: process.env as NodeJS.ProcessEnv, pickedFolder: null as string | null }

function record(path: string, args: unknown[]): void {
  calls.push({ path, args })
}

/** Logs every call and returns another recorder; property reads return recorders too (never `then`). */
function recorder(path: string): any {
  return new Proxy(function () {}, {
    get: (_t, key) => (key === 'then' || typeof key === 'symbol' ? undefined : recorder(`${path}.${String(key)}`)),
    apply: (_t, _this, args) => {
      record(path, args)
      return recorder(`${path}()`)
    },
    construct: (_t, args) => {
      record(`new ${path}`, args)
      return recorder(path)
    }
  })
}

/** `target` with its methods' calls logged; what it lacks is a recorder. */
function modelled<T extends object>(path: string, target: T): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'symbol' || key in t) {
        const value = Reflect.get(t, key, receiver)
        if (typeof value !== 'function' || typeof key === 'symbol' || key === 'constructor') return value
        return (...args: unknown[]) => {
          record(`${path}.${key}`, args)
          return value.apply(t, args)
        }
      }
      if (key === 'then') return undefined
      return recorder(`${path}.${key}`)
    }
  })
}

// ---- main process ----

class AppDouble extends EventEmitter {
  whenReady(): Promise<void> {
    return Promise.resolve()
  }
  isReady(): boolean {
    return true
  }
  getPath(name: string): string {
    if (!settings.userData) throw new Error('electron double: set settings.userData before loading the main bundle')
    return name === 'userData' || name === 'appData' ? settings.userData : `${settings.userData}/${name}`
  }
  getVersion(): string {
    return '0.0.0-test'
  }
  getName(): string {
    return 'Leafseg'
  }
  requestSingleInstanceLock(): boolean {
    return true
  }
  quit(): void {}
  exit(): void {}
}
export const app = modelled('app', new AppDouble())

/** The frames of a window's page: the URL it loaded, as Electron reports it on IPC events. */
class WebContentsDouble extends EventEmitter {
  url = ''
  windowOpenHandler: Listener | null = null
  readonly sent: { channel: string; args: unknown[] }[] = []
  readonly session = recorder('webContents.session')
  constructor(readonly id: number) {
    super()
  }
  setWindowOpenHandler(handler: Listener): void {
    this.windowOpenHandler = handler
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args })
    for (const l of rendererListeners.get(channel) ?? []) l({ sender: ipcRenderer }, ...args)
  }
  getURL(): string {
    return this.url
  }
  get mainFrame(): { url: string } {
    return { url: this.url }
  }
  isDestroyed(): boolean {
    return false
  }
}

export const windows: BrowserWindowDouble[] = []

class BrowserWindowDouble extends EventEmitter {
  readonly webContents: WebContentsDouble
  /** What the window loaded: a file path (loadFile) or a URL (loadURL). */
  loaded: { file?: string; url?: string } | null = null
  destroyed = false
  constructor(readonly options: Record<string, any> = {}) {
    super()
    this.webContents = modelled('webContents', new WebContentsDouble(windows.length + 1))
    const self = modelled('BrowserWindow', this)
    windows.push(self)
    return self
  }
  static getAllWindows(): BrowserWindowDouble[] {
    return windows.filter((w) => !w.destroyed)
  }
  static getFocusedWindow(): BrowserWindowDouble | null {
    return null
  }
  static fromWebContents(wc: unknown): BrowserWindowDouble | null {
    return windows.find((w) => w.webContents === wc) ?? null
  }
  loadFile(file: string): Promise<void> {
    this.loaded = { file }
    this.webContents.url = pathToFileURL(file).href
    return Promise.resolve()
  }
  loadURL(url: string): Promise<void> {
    this.loaded = { url }
    this.webContents.url = url
    return Promise.resolve()
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  show(): void {}
  hide(): void {}
  close(): void {
    this.destroyed = true
  }
  destroy(): void {
    this.destroyed = true
  }
}
export const BrowserWindow = BrowserWindowDouble

/** ipcMain.handle registrations by channel (a list, so a second registration shows). */
export const ipcHandlers = new Map<string, Listener[]>()
/** ipcMain.on listeners by channel. */
export const ipcListeners = new Map<string, Listener[]>()
const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => m.set(k, [...(m.get(k) ?? []), v])

export const ipcMain = modelled('ipcMain', {
  handle(channel: string, handler: Listener) {
    push(ipcHandlers, channel, handler)
  },
  handleOnce(channel: string, handler: Listener) {
    push(ipcHandlers, channel, handler)
  },
  on(channel: string, listener: Listener) {
    push(ipcListeners, channel, listener)
  },
  once(channel: string, listener: Listener) {
    push(ipcListeners, channel, listener)
  },
  removeHandler(channel: string) {
    ipcHandlers.delete(channel)
  }
})

export const privilegedSchemes: { scheme: string; privileges?: Record<string, boolean> }[] = []
export const protocolHandlers = new Map<string, (request: Request) => Response | Promise<Response>>()
export const protocol = modelled('protocol', {
  registerSchemesAsPrivileged(schemes: typeof privilegedSchemes) {
    privilegedSchemes.push(...schemes)
  },
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>) {
    if (protocolHandlers.has(scheme)) throw new Error(`protocol.handle: ${scheme} is already handled`)
    protocolHandlers.set(scheme, handler)
  },
  unhandle(scheme: string) {
    protocolHandlers.delete(scheme)
  },
  isProtocolHandled(scheme: string) {
    return protocolHandlers.has(scheme)
  }
})

/** Every utility process the host started, running for real under Node. */
export const forks: { modulePath: string; args: string[]; options: Record<string, unknown>; process: NodeUtilityProcess }[] = []
export const utilityProcess = modelled('utilityProcess', {
  fork(modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) {
    const child = new NodeUtilityProcess(modulePath, args, { ...settings.env, ...(options.env as NodeJS.ProcessEnv | undefined) })
    forks.push({ modulePath, args, options, process: child })
    return child
  }
})

export const session = recorder('session')
/** The folder dialog answers `settings.pickedFolder` (cancelled when null). */
export const dialog = modelled('dialog', {
  async showOpenDialog(...args: unknown[]) {
    void args
    return settings.pickedFolder ? { canceled: false, filePaths: [settings.pickedFolder] } : { canceled: true, filePaths: [] }
  }
})
export const shell = recorder('shell')
export const Menu = recorder('Menu')
export const MenuItem = recorder('MenuItem')
export const nativeTheme = recorder('nativeTheme')
export const nativeImage = recorder('nativeImage')
export const net = recorder('net')
export const screen = recorder('screen')
export const powerMonitor = recorder('powerMonitor')
export const powerSaveBlocker = recorder('powerSaveBlocker')
export const clipboard = recorder('clipboard')
export const crashReporter = recorder('crashReporter')
export const globalShortcut = recorder('globalShortcut')
export const Notification = recorder('Notification')
export const Tray = recorder('Tray')
export const systemPreferences = recorder('systemPreferences')
export const safeStorage = recorder('safeStorage')
export const webContents = recorder('webContents')
export const webFrameMain = recorder('webFrameMain')
export const MessageChannelMain = recorder('MessageChannelMain')
export const desktopCapturer = recorder('desktopCapturer')
export const autoUpdater = recorder('autoUpdater')
export const contentTracing = recorder('contentTracing')
export const netLog = recorder('netLog')
export const BaseWindow = recorder('BaseWindow')
export const WebContentsView = recorder('WebContentsView')
export const BrowserView = recorder('BrowserView')

// ---- preload (renderer side) ----

/** The window whose preload is running: ipcRenderer's calls arrive from its page. */
export const preloadHost: { window: BrowserWindowDouble | null } = { window: null }
const rendererListeners = new Map<string, Listener[]>()

export const ipcRenderer = modelled('ipcRenderer', {
  async invoke(channel: string, ...args: unknown[]) {
    const handlers = ipcHandlers.get(channel)
    if (!handlers?.length) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`)
    const wc = preloadHost.window?.webContents ?? null
    return handlers[0]({ sender: wc, senderFrame: wc ? { url: wc.url } : null, processId: 1, frameId: 1 }, ...args)
  },
  send(channel: string, ...args: unknown[]) {
    const wc = preloadHost.window?.webContents ?? null
    for (const l of ipcListeners.get(channel) ?? []) l({ sender: wc, senderFrame: wc ? { url: wc.url } : null }, ...args)
  },
  on(channel: string, listener: Listener) {
    push(rendererListeners, channel, listener)
  },
  removeListener(channel: string, listener: Listener) {
    rendererListeners.set(
      channel,
      (rendererListeners.get(channel) ?? []).filter((l) => l !== listener)
    )
  },
  listenerCount(channel: string) {
    return rendererListeners.get(channel)?.length ?? 0
  }
})

/** What the preload exposed, by the global name it chose. */
export const exposed = new Map<string, unknown>()
export const contextBridge = modelled('contextBridge', {
  exposeInMainWorld(key: string, api: unknown) {
    if (exposed.has(key)) throw new Error(`contextBridge: ${key} is already exposed`)
    exposed.set(key, api)
  }
})

export const webUtils = modelled('webUtils', {
  getPathForFile(file: { path?: string }) {
    return file.path ?? ''
  }
})
export const webFrame = recorder('webFrame')

export default {
  app,
  BrowserWindow,
  ipcMain,
  protocol,
  utilityProcess,
  session,
  dialog,
  shell,
  Menu,
  MenuItem,
  nativeTheme,
  nativeImage,
  net,
  screen,
  powerMonitor,
  powerSaveBlocker,
  clipboard,
  crashReporter,
  globalShortcut,
  Notification,
  Tray,
  systemPreferences,
  safeStorage,
  webContents,
  webFrameMain,
  MessageChannelMain,
  desktopCapturer,
  autoUpdater,
  contentTracing,
  netLog,
  BaseWindow,
  WebContentsView,
  BrowserView,
  ipcRenderer,
  contextBridge,
  webUtils,
  webFrame
}
