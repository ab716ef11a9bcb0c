import { availableParallelism } from 'node:os'

/** Threads for the wasm backend: LEAFSEG_WASM_THREADS, else the cores there are (at most 4). */
export function wasmThreads(): number {
  const fromEnv = Number(process.env.LEAFSEG_WASM_THREADS)
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : Math.min(4, availableParallelism())
}
