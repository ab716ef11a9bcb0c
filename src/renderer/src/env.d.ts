/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PreloadBridge } from '../../shared/api'

declare global {
  interface Window {
    /** Present in the desktop app (the preload bridge); absent in a browser on the web host. */
    leafseg?: PreloadBridge
  }
}
