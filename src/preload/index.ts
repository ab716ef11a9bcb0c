// The bridge: exposes invoke + event subscription, nothing more. The renderer never sees ipcRenderer.
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { ipcChannels, type PreloadBridge } from '../shared/api'

const bridge: PreloadBridge = {
  invoke: (method, args) => ipcRenderer.invoke(ipcChannels.invoke, method, args),
  on(listener) {
    const handler = (_event: unknown, name: string, payload: unknown): void => listener(name, payload)
    ipcRenderer.on(ipcChannels.event, handler)
    return () => ipcRenderer.removeListener(ipcChannels.event, handler)
  },
  pathForFile: (file) => webUtils.getPathForFile(file)
}

contextBridge.exposeInMainWorld('leafseg', bridge)
