// Picks the tfjs backend: native TensorFlow (tfjs-node-gpu, then tfjs-node), else wasm with our
// training kernels, else the pure-JS cpu backend. Every ml module imports tfjs from here only, so the
// process holds one copy of tfjs (two copies lose kernels and save handlers, tfjs #743/#1059).
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import util from 'node:util'
import { registerWasmTrainingKernels } from './wasm-kernels'

export { tf }

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

export interface BackendInfo {
  backend: BackendName
  /** What computes, in words: 'GPU: NVIDIA …', 'CPU (TensorFlow)', 'CPU (wasm)', 'CPU (JavaScript)'. */
  device: string
  /** Why a faster backend is not in use (absent when the GPU trains). */
  reason?: string
}

export interface BackendOptions {
  /** Use this backend or fail (tests, benchmarks). */
  force?: BackendName
  /**
   * Folder holding tfjs-backend-wasm's *.wasm files. Default: node_modules/@tensorflow/tfjs-backend-wasm/dist.
   * An Electron build must ship those files outside the asar archive (asarUnpack or extraResources) and pass
   * that folder here, because the wasm loader reads them with fs from a real path.
   */
  wasmDir?: string
}

// Not `require`: electron-vite's ES-module shim declares its own `require` in every chunk that uses one.
const nodeRequire = createRequire(import.meta.url)

export function defaultWasmDir(): string {
  return join(dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')
}

// tfjs-node 4.22 calls util helpers that Node 23+ removed (tfjs #8609).
function polyfillNodeUtil(): void {
  const u = util as unknown as Record<string, unknown>
  u.isNullOrUndefined ??= (v: unknown) => v === null || v === undefined
  u.isArray ??= Array.isArray
  u.isString ??= (v: unknown) => typeof v === 'string'
  u.isNumber ??= (v: unknown) => typeof v === 'number'
  u.isBoolean ??= (v: unknown) => typeof v === 'boolean'
  u.isFunction ??= (v: unknown) => typeof v === 'function'
  u.isObject ??= (v: unknown) => v !== null && typeof v === 'object'
}

/**
 * tfjs-node-gpu falls back to the CPU silently when CUDA/cuDNN do not match (tfjs #8269). A child
 * process loads it with TensorFlow's logging on, runs one matmul and reports whether TensorFlow
 * created a GPU device ("Created device /job:localhost/.../device:GPU:0 with ... name: <GPU>") or
 * failed to load a CUDA library.
 */
export function probeTensorflowGpu(): { gpu: string | null; detail: string } {
  let modulePath: string
  try {
    modulePath = nodeRequire.resolve('@tensorflow/tfjs-node-gpu')
  } catch {
    return { gpu: null, detail: 'tfjs-node-gpu is not installed' }
  }
  const script = `
    const u = require('util'); u.isNullOrUndefined ??= (v) => v == null; u.isArray ??= Array.isArray;
    const tf = require(${JSON.stringify(modulePath)});
    tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync();`
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0', ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: 120_000
  })
  const log = `${child.stderr ?? ''}\n${child.stdout ?? ''}`
  const device = /Created device \S*GPU:\d+ with .*?name: ([^,]+)/.exec(log)
  if (device) return { gpu: device[1].trim(), detail: 'TensorFlow created a GPU device' }
  const missing = /Could not load dynamic library '([^']+)'/.exec(log)
  if (missing) return { gpu: null, detail: `TensorFlow could not load ${missing[1]} (tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1)` }
  if (child.status !== 0) return { gpu: null, detail: `tfjs-node-gpu failed to start: ${log.trim().split('\n').slice(-3).join(' ')}` }
  return { gpu: null, detail: 'TensorFlow found no usable GPU' }
}

async function tryTensorflow(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  polyfillNodeUtil()
  try {
    await import(pkg)
  } catch (err) {
    return `${pkg} is not installed or did not load (${(err as Error).message.split('\n')[0]})`
  }
  // The native backend registers itself into the tfjs-core it resolved; if that is not ours, two copies exist.
  if (!tf.findBackend('tensorflow')) return `${pkg} loaded a second copy of tfjs; reinstall so that one @tensorflow/tfjs is shared`
  if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend failed to start`
  return null
}

// One thread per wasm instance: more cores train through worker threads, each with its own instance
// (worker-pool.ts). tfjs's threaded wasm build (XNNPACK threads) was tried and dropped: on 2 cores it made a
// Fast CPU step no faster, and its CPU time equalled its wall time (the second core stayed idle).
async function useWasm(wasmDir: string): Promise<string | null> {
  try {
    setWasmPaths(wasmDir.endsWith('/') ? wasmDir : `${wasmDir}/`)
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to start'
    registerWasmTrainingKernels()
    return null
  } catch (err) {
    return `the wasm backend failed to start: ${(err as Error).message}`
  }
}

let current: BackendInfo | undefined

/**
 * Select and start the backend (once per process unless `force` asks for another one).
 * Without `force`: tfjs-node-gpu, tfjs-node, wasm, cpu, in that order.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const { force } = options
  if (current && (!force || current.backend === force) && tf.getBackend() === current.backend) return current
  const reasons: string[] = []
  const done = (info: BackendInfo): BackendInfo => {
    current = info
    return info
  }

  if (!force || force === 'tensorflow') {
    const gpuFailure = await tryTensorflow('@tensorflow/tfjs-node-gpu')
    if (!gpuFailure) {
      const probe = probeTensorflowGpu()
      if (probe.gpu) return done({ backend: 'tensorflow', device: `GPU: ${probe.gpu}` })
      return done({ backend: 'tensorflow', device: 'CPU (TensorFlow)', reason: `tfjs-node-gpu runs on the CPU: ${probe.detail}` })
    }
    reasons.push(gpuFailure)
    const cpuFailure = await tryTensorflow('@tensorflow/tfjs-node')
    if (!cpuFailure) return done({ backend: 'tensorflow', device: 'CPU (TensorFlow)', reason: reasons.join('; ') })
    reasons.push(cpuFailure)
    if (force) throw new Error(`The TensorFlow backend is not available: ${reasons.join('; ')}`)
  }
  if (!force || force === 'wasm') {
    const failure = await useWasm(options.wasmDir ?? defaultWasmDir())
    if (!failure) return done({ backend: 'wasm', device: 'CPU (wasm, one thread)', reason: reasons.join('; ') || undefined })
    reasons.push(failure)
    if (force) throw new Error(`The wasm backend is not available: ${failure}`)
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('No tfjs backend could start')
  return done({ backend: 'cpu', device: 'CPU (JavaScript, slow)', reason: reasons.join('; ') || undefined })
}
