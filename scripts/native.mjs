// Makes better-sqlite3's native binary match the runtime about to use it:
//   node scripts/native.mjs node      tests, CLI, web host (plain Node)
//   node scripts/native.mjs electron  the desktop app (Electron's own Node ABI)
// The binary is built for one ABI at a time, so `npm start` and `npm test` rebuild whenever the other ran last.
// The check reads the ABI the binary registers itself under, so a rebuild that silently targeted the wrong
// runtime (as @electron/rebuild does offline with nodedir set) is caught here, not as a crash later.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'

const require = createRequire(import.meta.url)
const target = process.argv[2]
if (target !== 'node' && target !== 'electron') {
  console.error('usage: node scripts/native.mjs node|electron')
  process.exit(2)
}

const binary = require.resolve('better-sqlite3/build/Release/better_sqlite3.node')

function builtAbi() {
  try {
    const match = readFileSync(binary, 'latin1').match(/node_register_module_v(\d+)/)
    return match ? Number(match[1]) : null
  } catch {
    return null
  }
}

function wantedAbi() {
  if (target === 'node') return Number(process.versions.modules)
  const electronVersion = require('electron/package.json').version
  return Number(require('node-abi').getAbi(electronVersion, 'electron'))
}

function run(cmd, args) {
  console.error(`$ ${cmd} ${args.join(' ')}`)
  return spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' }).status === 0
}

const wanted = wantedAbi()
if (builtAbi() === wanted) process.exit(0)

console.error(`better-sqlite3 is built for ABI ${builtAbi() ?? 'none'}; ${target} needs ABI ${wanted}. Rebuilding…`)
const ok =
  target === 'node'
    ? run('npm', ['rebuild', 'better-sqlite3'])
    : run('npx', ['electron-rebuild', '--force', '--only', 'better-sqlite3'])

if (!ok || builtAbi() !== wanted) {
  const why =
    target === 'electron'
      ? 'Rebuilding it for Electron needs Electron’s headers, downloaded from the internet on first use. ' +
        'Connect to the internet and run `npm start` again. (The tests and the CLI run under plain Node and need no rebuild.)'
      : 'Rebuilding it for Node needs a C++ toolchain (python3, make, g++) or internet access for a prebuilt binary.'
  console.error(`\nCould not build better-sqlite3 for ${target} (ABI ${wanted}; the binary is for ABI ${builtAbi() ?? 'none'}). ${why}`)
  process.exit(1)
}
console.error(`better-sqlite3 is now built for ${target} (ABI ${wanted}).`)
