// `npm run bench [-- NAME...]`: a first line with the machine and versions, then one JSON line per figure.
import os from 'node:os'
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import type { Bench, BenchLine } from './types'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const names = process.argv.slice(2)

function version(pkg: string): string | null {
  try {
    return require(`${pkg}/package.json`).version
  } catch {
    return null
  }
}

const cpus = os.cpus()
console.log(
  JSON.stringify({
    machine: {
      cores: cpus.length,
      cpu: cpus[0]?.model ?? 'unknown',
      memory_gib: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.arch()}`
    },
    versions: {
      node: process.versions.node,
      leafseg: require(join(here, '..', 'package.json')).version,
      tfjs: version('@tensorflow/tfjs-core'),
      opencv_wasm: version('opencv-wasm'),
      sharp: (await import('sharp')).default.versions.sharp,
      better_sqlite3: version('better-sqlite3')
    }
  })
)

const emit = (line: BenchLine): void => console.log(JSON.stringify(line))

// A name selects the figures it begins (`trimap`, `train.fast-cpu`) or a whole bench file's area (`eval`).
// Every bench checks `wanted` before doing any work, so unselected ones cost nothing.
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
for (const file of files) {
  const bench: Bench = (await import(pathToFileURL(join(here, file)).href)).default
  const wanted = (figure: string): boolean => names.length === 0 || names.some((n) => n === bench.area || figure.startsWith(n))
  await bench.run(emit, wanted)
}
