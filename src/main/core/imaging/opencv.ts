// The one place that loads opencv-wasm (≈150–300 ms, once per process).
// Every Mat made from it must be deleted by its caller: wasm memory is not garbage-collected.
import { createRequire } from 'node:module'

// Not `require`: electron-vite's ES-module shim declares its own `require` in every chunk that uses one.
const nodeRequire = createRequire(import.meta.url)

// opencv-wasm ships loose typings; we keep the module untyped here and type what we use at call sites.

export type OpenCV = any

let cvInstance: OpenCV | undefined

export function opencv(): OpenCV {
  if (!cvInstance) cvInstance = nodeRequire('opencv-wasm').cv
  return cvInstance
}
