// Which backend would train, told without loading TensorFlow in the main process: the last backend a
// training job on this project really used on this machine, else what the installed packages predict
// (the job process's initBackend makes the real choice and records it with the run).
import { createRequire } from 'node:module'
import type { TrainingBackend } from '../../../shared/api/training'
import type { Db } from '../store/database'
import { lastRunBackend } from './records'

// Not `require`: electron-vite's ES-module shim declares its own `require` in every chunk that uses one.
const nodeRequire = createRequire(import.meta.url)

function installed(pkg: string): boolean {
  try {
    nodeRequire.resolve(pkg)
    return true
  } catch {
    return false
  }
}

export function expectedBackend(db: Db): TrainingBackend {
  const last = lastRunBackend(db)
  if (last) return { ...last, measured: true }
  if (installed('@tensorflow/tfjs-node-gpu'))
    return {
      backend: 'tensorflow',
      device: 'GPU if TensorFlow finds CUDA 11.2 and cuDNN 8.1, else CPU (checked when training starts)',
      reason: null,
      renderer: null,
      measured: false
    }
  if (installed('@tensorflow/tfjs-node'))
    return {
      backend: 'tensorflow',
      device: 'CPU (TensorFlow)',
      reason: '@tensorflow/tfjs-node-gpu is not installed, so no GPU is used.',
      renderer: null,
      measured: false
    }
  return {
    backend: 'wasm',
    device: 'CPU (wasm, on the workers set for the run)',
    reason:
      'Native TensorFlow (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) is not installed: its install downloads libtensorflow, which needs internet access. Training uses the GPU through WebGPU (Dawn) when it finds a hardware adapter, checked when training starts.',
    renderer: null,
    measured: false
  }
}
