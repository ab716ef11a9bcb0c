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

function preloadClient(bridge: PreloadBridge): LeafsegClient {
  const hub = eventHub()
  bridge.on((event, payload) => hub.emit(event, payload))
  return {
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      return unwrap(await bridge.invoke(method, args)) as ApiResult<M>
    },
    on: hub.on
  }
}

function webClient(): LeafsegClient {
  // The first page load carried ?token=…; the server answered with a session cookie, so drop the token from the address bar.
  const url = new URL(location.href)
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token')
    history.replaceState(null, '', url.toString())
  }
  const hub = eventHub()
  const source = new EventSource('/api/events')
  source.onmessage = (e) => {
    const { event, payload } = JSON.parse(e.data) as { event: string; payload: unknown }
    hub.emit(event, payload)
  }
  return {
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      let response: Response
      try {
        response = await fetch(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) })
      } catch {
        throw new ApiError('io', 'Leafseg’s server is not answering. Is `leafseg serve` still running?')
      }
      if (response.status === 401) throw new ApiError('forbidden', 'This page’s session has expired: open the URL that `leafseg serve` printed.')
      return unwrap(await response.json()) as ApiResult<M>
    },
    on: hub.on
  }
}

export const client: LeafsegClient = window.leafseg ? preloadClient(window.leafseg) : webClient()
