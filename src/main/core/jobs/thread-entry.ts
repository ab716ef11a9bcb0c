// Where a worker thread's script is: the bundle's entry (electron.vite.config.ts names each one), or under tsx
// (tests, benchmarks, the CLI from source) the TypeScript source through tsx's loader.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ThreadEntry {
  script: string
  /** `script` is code to evaluate, not a file (new Worker's `eval` option). */
  eval: boolean
}

/**
 * The entry of the worker thread `name` (e.g. 'engine-worker'). `source` is the thread's TypeScript file as a
 * URL relative to the caller (`new URL('./engine-worker.ts', import.meta.url)`), `caller` the caller's
 * import.meta.url.
 */
export function threadEntry(name: string, source: URL, caller: string): ThreadEntry {
  const here = fileURLToPath(caller)
  if (here.endsWith('.ts'))
    return {
      script: `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}) })`,
      eval: true
    }
  // Bundled: the caller sits in out/main/ or out/main/chunks/, the thread's entry in out/main/.
  for (const dir of [dirname(here), dirname(dirname(here))]) {
    const path = join(dir, `${name}.js`)
    if (existsSync(path)) return { script: path, eval: false }
  }
  throw new Error(`The worker thread script ${name}.js is missing beside ${here}.`)
}
