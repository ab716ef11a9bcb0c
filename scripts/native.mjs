// Keeps one better-sqlite3 binary per runtime, so the desktop app and the CLI work side by side:
//   node scripts/native.mjs node      tests, CLI, web host (plain Node): better-sqlite3's own build/Release binary
//   node scripts/native.mjs electron  the desktop app: a second binary, built for Electron's ABI into
//                                     build/electron-<abi>/, which src/main/core/store/native.ts loads under Electron
// The Electron build happens in place (that is how @electron/rebuild works), so the Node binary is kept aside
// and put back afterwards. The check reads the ABI a binary registers itself under, so a rebuild that silently
// targeted the wrong runtime (as @electron/rebuild does offline with nodedir set) is caught here, not as a crash later.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

/** The ABI a built .node file registers itself under, or null when there is none. */
export function builtAbi(file) {
  try {
    const match = readFileSync(file, 'latin1').match(/node_register_module_v(\d+)/)
    return match ? Number(match[1]) : null
  } catch {
    return null
  }
}

export const nodeBinary = (packageDir) => join(packageDir, 'build', 'Release', 'better_sqlite3.node')
export const electronBinary = (packageDir, abi) => join(packageDir, 'build', `electron-${abi}`, 'better_sqlite3.node')

/**
 * Build the Electron binary with `rebuild` (which replaces build/Release in place), move it to its own folder and
 * put the Node binary back. Returns null on success, else why it failed; the Node binary is restored either way.
 */
export function installElectronBinary(packageDir, abi, rebuild) {
  const release = nodeBinary(packageDir)
  const kept = `${release}.node-build`
  if (existsSync(release)) copyFileSync(release, kept)
  try {
    const output = rebuild()
    const got = builtAbi(release)
    if (got !== abi) return { output, why: `the rebuilt binary is for ABI ${got ?? 'none'}, not Electron's ${abi}` }
    mkdirSync(dirname(electronBinary(packageDir, abi)), { recursive: true })
    renameSync(release, electronBinary(packageDir, abi))
    return null
  } finally {
    if (existsSync(kept)) renameSync(kept, release)
  }
}

function run(cmd, args, capture) {
  const result = spawnSync(cmd, args, { stdio: capture ? 'pipe' : 'inherit', encoding: 'utf8', shell: process.platform === 'win32' })
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` }
}

function main(target) {
  const packageDir = dirname(require.resolve('better-sqlite3/package.json'))
  if (target === 'node') {
    const wanted = Number(process.versions.modules)
    if (builtAbi(nodeBinary(packageDir)) === wanted) return 0
    console.error(`better-sqlite3 is built for ABI ${builtAbi(nodeBinary(packageDir)) ?? 'none'}; Node needs ABI ${wanted}. Rebuilding…`)
    run('npm', ['rebuild', 'better-sqlite3'], false)
    if (builtAbi(nodeBinary(packageDir)) === wanted) return 0
    console.error(
      `\nCould not build better-sqlite3 for Node (ABI ${wanted}). It needs a C++ toolchain (python3, make, g++) or internet access for a prebuilt binary.`
    )
    return 1
  }
  const electronVersion = require('electron/package.json').version
  const abi = Number(require('node-abi').getAbi(electronVersion, 'electron'))
  if (builtAbi(electronBinary(packageDir, abi)) === abi) return 0
  console.error(`Building better-sqlite3 for Electron ${electronVersion} (ABI ${abi}); the first time downloads Electron's headers…`)
  // @electron/rebuild prints its own "Rebuild Complete" even when it built for the wrong runtime: its output is
  // shown only when the result is wrong, so there is one true message.
  const failure = installElectronBinary(packageDir, abi, () => run('npx', ['electron-rebuild', '--force', '--only', 'better-sqlite3'], true).output)
  if (!failure) {
    console.error(`better-sqlite3 is built for Electron (ABI ${abi}); the Node build for the CLI and tests is kept.`)
    return 0
  }
  console.error(failure.output.trim())
  console.error(
    `\nCould not build better-sqlite3 for Electron: ${failure.why}. Rebuilding it for Electron needs Electron’s headers, ` +
      'downloaded from the internet on first use. Connect to the internet and run `npm start` again. ' +
      '(The tests, the CLI and the web host run under plain Node and need no rebuild.)'
  )
  return 1
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = process.argv[2]
  if (target !== 'node' && target !== 'electron') {
    console.error('usage: node scripts/native.mjs node|electron')
    process.exit(2)
  }
  process.exit(main(target))
}
