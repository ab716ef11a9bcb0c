// The Electron IPC adapter: one channel carries every API method (validated in dispatch),
// one channel carries every event. Only our own renderer frames may call.
import { ipcMain, type BrowserWindow, type WebFrameMain } from 'electron'
import type { LeafsegService } from './core/service/service'
import { dispatch } from './core/service/dispatch'
import { ipcChannels } from '../shared/api'
import { mayNavigate } from './security'

export function registerIpc(service: LeafsegService, windows: () => BrowserWindow[], rendererUrl: string): void {
  const trusted = (frame: WebFrameMain | null): boolean => Boolean(frame && mayNavigate(frame.url, rendererUrl))
  ipcMain.handle(ipcChannels.invoke, async (event, method: unknown, args: unknown) => {
    if (!trusted(event.senderFrame)) return { ok: false, error: { code: 'forbidden', message: 'Unknown caller.' } }
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid_argument', message: 'The method name must be a string.' } }
    return dispatch(service, method, args)
  })
  // The preload's registration of a really dropped file's path (see src/preload/index.ts).
  ipcMain.on(ipcChannels.droppedPath, (event, path: unknown) => {
    const ok = trusted(event.senderFrame) && typeof path === 'string' && path.length > 0 && path.length <= 4096 && !path.includes('\0')
    if (ok) service.chosen.registerDrop(path)
    event.returnValue = ok
  })
  service.events.subscribe((event, payload) => {
    for (const w of windows()) if (!w.isDestroyed()) w.webContents.send(ipcChannels.event, event, payload)
  })
}
