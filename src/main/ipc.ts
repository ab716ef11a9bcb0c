// The Electron IPC adapter: one channel carries every API method (validated in dispatch),
// one channel carries every event. Only our own renderer frames may call.
import { ipcMain, type BrowserWindow, type WebFrameMain } from 'electron'
import type { LeafsegService } from './core/service/service'
import { dispatch } from './core/service/dispatch'
import { ipcChannels } from '../shared/api'


export function registerIpc(service: LeafsegService, windows: () => BrowserWindow[], rendererUrl: string): void {
  const trusted = (frame: WebFrameMain | null): boolean => Boolean(frame && frame.url.startsWith(rendererUrl))
  ipcMain.handle(ipcChannels.invoke, async (event, method: unknown, args: unknown) => {
    if (!trusted(event.senderFrame)) return { ok: false, error: { code: 'forbidden', message: 'Unknown caller.' } }
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid_argument', message: 'The method name must be a string.' } }
    return dispatch(service, method, args)
  })
  service.events.subscribe((event, payload) => {
    for (const w of windows()) if (!w.isDestroyed()) w.webContents.send(ipcChannels.event, event, payload)
  })
}
