// How the job process reaches a GPU worker page, set by the host: the desktop app asks its main process for a
// port to a hidden window; tests open the page in Chromium. No tfjs here: the job process sets it at start-up.
import type { EnginePort } from './remote-engine'

let connector: (() => Promise<EnginePort>) | null = null

/** Set (or clear, with null) the host's way to a GPU worker. Without one (CLI, web host) only the native and wasm backends exist. */
export function setGpuWorkerConnector(connect: (() => Promise<EnginePort>) | null): void {
  connector = connect
}

/** A fresh port to a GPU worker page, or null when this host has none. */
export function gpuWorkerConnector(): (() => Promise<EnginePort>) | null {
  return connector
}
