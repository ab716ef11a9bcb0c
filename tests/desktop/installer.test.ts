// The installer's configuration (electron-builder.yml) as far as it can be checked offline: electron-builder
// loads and validates it, and packs the app into a folder (its `dir` target, with a stand-in Electron and no
// native rebuild, the two steps that need the internet); what it packed is exactly the built app and its
// production dependencies, with the files read from disk unpacked and the command line next to the app.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { filesUnder, outDir, requireBuilt } from './bundles'
import { tempDir } from '../helpers/temp'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../..', import.meta.url))
const configFile = join(root, 'electron-builder.yml')
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

let resources: string
let packed: Set<string>

before(() => {
  requireBuilt()
  // Electron's own files do not matter here; electron-builder copies whatever the folder holds.
  const electronDist = tempDir('leafseg-fake-electron-')
  writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nexit 1\n')
  chmodSync(join(electronDist, 'electron'), 0o755)
  const output = tempDir('leafseg-dist-')
  const cli = require.resolve('electron-builder/cli.js')
  const args = [cli, '--linux', 'dir', '--config', configFile, `-c.electronDist=${electronDist}`, '-c.npmRebuild=false', `-c.directories.output=${output}`]
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ELECTRON_BUILDER_OFFLINE: '1' } })
  assert.equal(run.status, 0, `electron-builder failed:\n${run.stdout}\n${run.stderr}`)
  resources = join(output, 'linux-unpacked', 'resources')
  const asar = require('@electron/asar') as { listPackage(archive: string, options: { isPack: boolean }): string[] }
  const archive = join(resources, 'app.asar')
  const entries = asar.listPackage(archive, { isPack: false }).map((p) =>
    p
      .replace(/^[/\\]/, '')
      .split(sep)
      .join('/')
  )
  // The listing holds folders too: drop every entry that another one sits in.
  const folders = new Set(
    entries.flatMap((p) =>
      p
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/'))
    )
  )
  packed = new Set(entries.filter((p) => !folders.has(p)))
})

test('electron-builder loads and validates the configuration, with the targets a lab needs', async () => {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Record<string, any>>
    validateConfiguration(config: unknown, logger: unknown): Promise<void>
  }
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown }
  const config = await getConfig(root, configFile, null)
  await validateConfiguration(config, new DebugLogger(false))
  assert.deepEqual(config.linux.target, ['AppImage', 'deb'])
  assert.equal(config.win.target, 'nsis')
  assert.equal(config.mac.target, 'dmg')
  assert.equal(config.npmRebuild, true, 'better-sqlite3 must be rebuilt for Electron')
  await assert.rejects(validateConfiguration({ ...config, linux: { ...config.linux, notAnOption: true } }, new DebugLogger(false)), /configuration\.linux/)
  assert.equal(packageJson.scripts.dist, 'electron-vite build && electron-builder')
})

test('the package holds exactly the built app (out/, no source maps) and package.json, besides dependencies', () => {
  const appFiles = [...packed].filter((p) => !p.startsWith('node_modules/')).sort()
  const built = filesUnder(outDir)
    .filter((f) => !f.endsWith('.map'))
    .map((f) => `out/${f.split(sep).join('/')}`)
  assert.deepEqual(appFiles, [...built, 'package.json'].sort())
})

test('its node_modules are exactly the production dependencies that npm installed', () => {
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' })
  const production = new Set(
    ls.stdout
      .split('\n')
      .filter((l) => l.includes('node_modules'))
      .map((l) => packageName(relative(root, l).split(sep).join('/')))
  )
  const inPackage = new Set([...packed].filter((p) => p.startsWith('node_modules/')).map(packageName))
  assert.deepEqual([...inPackage].filter((n) => !production.has(n)).sort(), [], 'packed but not a production dependency')
  assert.deepEqual([...production].filter((n) => !inPackage.has(n)).sort(), [], 'a production dependency left out')
  for (const dev of Object.keys(packageJson.devDependencies)) assert.ok(!inPackage.has(dev) || production.has(dev), `devDependency ${dev} is packed`)
  assert.ok(!inPackage.has('electron') && !inPackage.has('tsx') && !inPackage.has('playwright-core'))
})

/** node_modules/a/node_modules/@s/b/lib/x.js → @s/b (the innermost package). */
function packageName(path: string): string {
  const parts = path.split('node_modules/').at(-1)!.split('/')
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
}

test('the wasm files and native libraries sit outside the archive, where they are read from disk', () => {
  const unpacked = join(resources, 'app.asar.unpacked')
  const wasm = filesUnder(join(unpacked, 'node_modules')).filter((f) => f.endsWith('.wasm'))
  for (const file of [
    '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
    '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
    'opencv-wasm/opencv.wasm'
  ])
    assert.ok(wasm.includes(file.split('/').join(sep)), `${file} is not unpacked`)
  const native = filesUnder(join(unpacked, 'node_modules')).filter((f) => /\.(node|so(\.\d+)*)$/.test(f))
  assert.ok(
    native.some((f) => f.endsWith('better_sqlite3.node')),
    'better-sqlite3 binary'
  )
  assert.ok(
    native.some((f) => /sharp-.*\.node$/.test(f)),
    'sharp binary'
  )
  assert.ok(
    native.some((f) => /libvips/.test(f)),
    'libvips'
  )
  // Every native file npm installed for a packed package is unpacked: none is left inside the archive.
  assert.deepEqual(
    [...packed].filter((p) => /\.node$/.test(p) && !existsSync(join(unpacked, p))),
    []
  )
})

test('the command line ships next to the app and runs the bundled CLI, linked onto the PATH by the .deb', () => {
  const launcher = join(resources, 'bin', 'leafseg')
  assert.ok(statSync(launcher).mode & 0o111, 'the launcher is executable')
  const script = readFileSync(launcher, 'utf8')
  assert.match(script, /ELECTRON_RUN_AS_NODE=1/)
  const entry = /app\.asar\/([\w./-]+\.js)/.exec(script)?.[1]
  assert.ok(entry && packed.has(entry), `the launcher runs ${entry}, which is not packed`)
  assert.ok(script.includes('"$app/leafseg-app"'), 'the launcher looks for the Linux executable by its configured name')
  assert.ok(existsSync(join(resources, '..', 'leafseg-app')))
  const afterInstall = readFileSync(join(root, 'installer', 'deb-after-install.sh'), 'utf8')
  assert.match(afterInstall, /ln -sf '\/opt\/\$\{sanitizedProductName\}\/resources\/bin\/leafseg' '\/usr\/bin\/leafseg'/)
  assert.match(readFileSync(join(root, 'installer', 'deb-after-remove.sh'), 'utf8'), /rm -f '\/usr\/bin\/leafseg'/)
  // The bundled CLI runs under plain Node here as Electron-as-Node would run it there.
  const help = spawnSync(process.execPath, [join(outDir, entry.replace(/^out\//, ''))].concat('--version'), { encoding: 'utf8' })
  assert.equal(help.status, 0, help.stderr)
  assert.equal(help.stdout.trim(), packageJson.version)
})
