// The renderer's one way to reach the application. Over the Electron preload bridge or over HTTP to the
// web host, it has the same type, derived from the shared contract.
import type { ApiArgs, ApiMethod, ApiResult, EventName, LeafsegClient, LeafsegEvents, PreloadBridge } from '../../../shared/api'
import { ApiError, type ErrorCode } from '../../../shared/errors'

type Listener = (payload: never) => void

function eventHub() {
  const listeners = new Map<string, Set<Listener>>()
  return {
    on<E extends EventName>(event: E, listener: (payload: LeafsegEvents[E]) => void): () => void {
      const set = listeners.get(event) ?? new Set()
      set.add(listener as Listener)
      listeners.set(event, set)
      return () => set.delete(listener as Listener)
    },
    emit(event: string, payload: unknown): void {
      for (const l of listeners.get(event) ?? []) (l as (p: unknown) => void)(payload)
    }
  }
}

function unwrap(result: { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }): unknown {
  if (result.ok) return result.value
  throw new ApiError(result.error.code as ErrorCode, result.error.message)
}

/** What the views use: the shared client plus the two things that differ by host (file URLs and drops). */
export interface RendererClient extends LeafsegClient {
  /** A URL for a project file (thumbnail, photo, mask); `version` defeats the cache when the file changed. */
  fileUrl(relativePath: string, version?: string): string
  /**
   * Paths the core can import from for a drop of files and folders: their own paths in the desktop app;
   * in a browser, which cannot reveal paths, the files are uploaded into the project first.
   */
  resolveDrop(items: DataTransfer, onProgress: (done: number, total: number) => void): Promise<string[]>
}

function versioned(url: string, version?: string): string {
  return version ? `${url}?v=${encodeURIComponent(version)}` : url
}

function encodePath(relativePath: string): string {
  return relativePath.split('/').map(encodeURIComponent).join('/')
}

function preloadClient(bridge: PreloadBridge): RendererClient {
  const hub = eventHub()
  bridge.on((event, payload) => hub.emit(event, payload))
  const call = async <M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> => unwrap(await bridge.invoke(method, args)) as ApiResult<M>
  return {
    call,
    on: hub.on,
    fileUrl: (p, v) => versioned(`leafseg-file://project/${encodePath(p)}`, v),
    async resolveDrop(items) {
      const paths = [...items.files].map((f) => bridge.pathForFile(f)).filter(Boolean)
      if (paths.length) await call('files.dropped', { paths })
      return paths
    }
  }
}

/** Every file under the dropped entries, with its path relative to the drop (folders walked). */
async function droppedFiles(items: DataTransfer): Promise<{ file: File; path: string }[]> {
  const out: { file: File; path: string }[] = []
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
      out.push({ file, path: `${prefix}${entry.name}` })
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader()
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
        if (batch.length === 0) break
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`)
      }
    }
  }
  const entries = [...items.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null)
  if (entries.length) for (const e of entries) await walk(e, '')
  else for (const file of items.files) out.push({ file, path: file.name })
  return out
}

function webClient(): RendererClient {
  // The first page load carried ?token=…; the server answered with a session cookie, so drop the token from the address bar.
  const url = new URL(location.href)
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token')
    history.replaceState(null, '', url.toString())
  }
  // The cookie only loads the page and its files; API calls carry the token the server put in the page,
  // in a header that a page of another origin cannot send.
  const token = document.querySelector<HTMLMetaElement>('meta[name="leafseg-token"]')?.content ?? ''
  const auth = { 'x-leafseg-token': token }
  const hub = eventHub()
  // EventSource cannot send headers: the stream (read-only) takes the token in its query.
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`)
  source.onmessage = (e) => {
    const { event, payload } = JSON.parse(e.data) as { event: string; payload: unknown }
    hub.emit(event, payload)
  }
  return {
    fileUrl: (p, v) => versioned(`/files/${encodePath(p)}`, v),
    async resolveDrop(items, onProgress) {
      const files = await droppedFiles(items)
      const batch = `drop-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
      let dir = ''
      for (let i = 0; i < files.length; i++) {
        const response = await fetch(`/upload?batch=${batch}&path=${encodeURIComponent(files[i].path)}`, { method: 'PUT', headers: auth, body: files[i].file })
        dir = (unwrap(await response.json()) as { dir: string }).dir
        onProgress(i + 1, files.length)
      }
      return dir ? [dir] : []
    },
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      let response: Response
      try {
        response = await fetch(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(args) })
      } catch {
        throw new ApiError('io', 'Leafseg’s server is not answering. Is `leafseg serve` still running?')
      }
      if (response.status === 401) throw new ApiError('forbidden', 'This page’s session has expired: open the URL that `leafseg serve` printed.')
      return unwrap(await response.json()) as ApiResult<M>
    },
    on: hub.on
  }
}

export const client: RendererClient = window.leafseg ? preloadClient(window.leafseg) : webClient()
