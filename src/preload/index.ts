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
  // Only a File the user gave (a drop, a file input) has a path: one the page makes itself has none,
  // and getPathForFile refuses anything that is not a File. So the path is registered with the main
  // process here, on a channel the page cannot reach, and `files.dropped` accepts only registered paths.
  // Sent synchronously so that the registration is in place before the page can name the path.
  pathForFile(file) {
    const path = webUtils.getPathForFile(file)
    if (path) ipcRenderer.sendSync(ipcChannels.droppedPath, path)
    return path
  }
}

contextBridge.exposeInMainWorld('leafseg', bridge)
