// The Electron host's guards, applied to every window and session (the main window and any hidden one):
// nothing navigates away from the app's page, no window opens, no permission is granted, links open in
// the user's browser only for a few hosts, and project files are readable only by the app's own origin.
// The decisions are plain functions (tested under Node); Electron is imported for types only.
import type { Session, WebContents } from 'electron'

/**
 * Hosts whose https links open in the user's browser. The UI links to none today: add a host here
 * (and say why) when a view gains a link; anything else is refused.
 */
export const externalLinkHosts: readonly string[] = []

/** Whether `url` may be handed to the operating system's browser: https, no credentials, a listed host. */
export function mayOpenExternally(url: string, hosts: readonly string[] = externalLinkHosts): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  return u.protocol === 'https:' && !u.username && !u.password && u.port === '' && hosts.includes(u.hostname)
}

/**
 * Whether a window showing the app may navigate to `url` (or, for IPC, whether a frame shows the app):
 * only the app's own pages — the built renderer's folder, or the dev server's origin in development.
 */
export function mayNavigate(url: string, rendererUrl: string): boolean {
  let target: URL
  let own: URL
  try {
    target = new URL(url)
    own = new URL(rendererUrl)
  } catch {
    return false
  }
  if (own.protocol === 'file:') {
    const folder = own.pathname.slice(0, own.pathname.lastIndexOf('/') + 1)
    return target.protocol === 'file:' && target.host === own.host && target.pathname.startsWith(folder)
  }
  return target.origin === own.origin
}

/**
 * The `access-control-allow-origin` for a leafseg-file: response, or null for none: the requesting
 * Origin, only when it is the app's own page. A page loaded from file: sends `file://` in Electron
 * (Chromium's own serialisation of a file origin is `null`); no other page can run in the app's
 * session because navigation and new windows are refused, so both stand for the app's page there.
 */
export function fileProtocolCorsOrigin(requestOrigin: string | null, rendererUrl: string): string | null {
  if (!requestOrigin) return null
  let own: URL
  try {
    own = new URL(rendererUrl)
  } catch {
    return null
  }
  const ownOrigins = own.protocol === 'file:' ? ['file://', 'null'] : [own.origin]
  return ownOrigins.includes(requestOrigin) ? requestOrigin : null
}

/** Refuse every permission a page may ask for (camera, notifications, …): the app needs none. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}

/**
 * Keep a window's contents on the app's pages: no navigation or redirect elsewhere, no new windows, no
 * webviews. The host applies it to every WebContents as it is created, hidden windows included.
 */
export function hardenContents(contents: WebContents, rendererUrl: string, openExternal: (url: string) => void): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (mayOpenExternally(url)) openExternal(url)
    return { action: 'deny' }
  })
  const stayHome = (event: { url: string; preventDefault(): void }): void => {
    if (!mayNavigate(event.url, rendererUrl)) event.preventDefault()
  }
  contents.on('will-navigate', stayHome)
  contents.on('will-frame-navigate', stayHome)
  contents.on('will-redirect', stayHome)
  contents.on('will-attach-webview', (event) => event.preventDefault())
}
