// One better-sqlite3 binary per runtime: the Electron build step must leave the Node binary (CLI, tests) working.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { sqliteBinding } from '../../src/main/core/store/native'
import { tempDir } from '../helpers/temp'
// @ts-expect-error: a plain .mjs script without types
import { builtAbi, electronBinary, installElectronBinary, nodeBinary } from '../../scripts/native.mjs'

const realPackage = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))
const nodeAbi = Number(process.versions.modules)
const electronAbi = nodeAbi + 35

/** A copy of the package's Node binary in a scratch package folder. */
function scratchPackage(): string {
  const dir = tempDir('leafseg-native-')
  mkdirSync(dirname(nodeBinary(dir)), { recursive: true })
  copyFileSync(nodeBinary(realPackage), nodeBinary(dir))
  return dir
}

/** What @electron/rebuild leaves behind: a binary in build/Release registered under the given ABI. */
function fakeRebuild(dir: string, abi: number) {
  return () => {
    writeFileSync(nodeBinary(dir), `\0node_register_module_v${abi}\0`)
    return '✔ Rebuild Complete'
  }
}

test('Node loads the package binary; Electron loads its own build when there is one', () => {
  const dir = scratchPackage()
  assert.equal(sqliteBinding({ modules: String(nodeAbi) }, dir), undefined)
  assert.equal(sqliteBinding({ electron: '45.5.0', modules: String(electronAbi) }, dir), undefined, 'no Electron build yet: the default binary')
  mkdirSync(dirname(electronBinary(dir, electronAbi)), { recursive: true })
  writeFileSync(electronBinary(dir, electronAbi), 'x')
  assert.equal(sqliteBinding({ electron: '45.5.0', modules: String(electronAbi) }, dir), electronBinary(dir, electronAbi))
  assert.equal(sqliteBinding({ modules: String(nodeAbi) }, dir), undefined, 'plain Node never loads the Electron build')
})

test('the Electron build step keeps the Node binary, so the CLI still opens a project afterwards', () => {
  const dir = scratchPackage()
  const before = readFileSync(nodeBinary(dir))
  assert.equal(installElectronBinary(dir, electronAbi, fakeRebuild(dir, electronAbi)), null)
  assert.equal(builtAbi(electronBinary(dir, electronAbi)), electronAbi)
  assert.deepEqual(readFileSync(nodeBinary(dir)), before, 'the Node binary is back in build/Release')
  // The kept binary really loads under Node and opens a database.
  const db = new Database(join(tempDir('leafseg-native-db-'), 'x.sqlite'), { nativeBinding: nodeBinary(dir) })
  assert.deepEqual(db.prepare('SELECT 1 + 1 AS two').get(), { two: 2 })
  db.close()
})

test('a rebuild that targeted the wrong runtime is reported, and nothing is left half-done', () => {
  const dir = scratchPackage()
  const before = readFileSync(nodeBinary(dir))
  const failure = installElectronBinary(dir, electronAbi, fakeRebuild(dir, nodeAbi))
  assert.match(failure.why, new RegExp(`ABI ${nodeAbi}, not Electron's ${electronAbi}`))
  assert.match(failure.output, /Rebuild Complete/, 'the tool output is kept to show with the failure')
  assert.equal(existsSync(electronBinary(dir, electronAbi)), false)
  assert.deepEqual(readFileSync(nodeBinary(dir)), before)
})
