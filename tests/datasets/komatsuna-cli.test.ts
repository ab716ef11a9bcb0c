// Opt-in (runs when ../shared/data/komatsuna exists): the CLI imports the 300 komatsuna photos with their
// colour label images as 300 binary masks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/temp'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const data = resolve(root, '..', 'shared', 'data', 'komatsuna')
const skip = existsSync(join(data, 'rgb')) ? false : `no komatsuna data at ${data}`

test('leafseg import of komatsuna: 300 photos, 300 binary masks', { skip, timeout: 180_000 }, () => {
  const project = join(tempDir(), 'komatsuna')
  const env = { ...process.env, LEAFSEG_USER_DATA: tempDir() }
  const cli = join(root, 'bin', 'leafseg.js')
  execFileSync(process.execPath, [cli, 'project', 'create', project, '--name', 'Komatsuna'], { env })
  const out = execFileSync(process.execPath, [cli, 'import', join(data, 'rgb'), '--masks', join(data, 'label'), '--project', project, '--dataset', 'komatsuna', '--json'], { env, encoding: 'utf8' })
  const summary = JSON.parse(out.trim().split('\n').pop()!)
  assert.equal(summary.dataset.photos, 300)
  assert.equal(summary.dataset.labelled, 300)
  assert.equal(summary.masks.problems.length, 0)
  assert.equal(summary.photos.problems.length, 0)
})
