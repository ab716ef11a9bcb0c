// `leafseg export`: a trained run's checkpoint written as ONNX by a real process, and run by onnxruntime.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'
import { loadModel } from '../../src/main/core/model/predict'

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const env = { ...process.env, LEAFSEG_USER_DATA: tempDir(), LEAFSEG_WASM_THREADS: '1' }
let work: string
let project: string

function leafseg(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', env, timeout: 180_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

function leafsegJson<T>(...args: string[]): T {
  const r = leafseg(...args, '--json')
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as T
}

before(async () => {
  work = tempDir()
  const photos = join(work, 'photos')
  const masks = join(work, 'masks')
  mkdirSync(masks)
  for (const s of await makePhotos(photos, 6, { width: 40, height: 40, seed: 5 })) renameSync(s.maskPath, join(masks, `${s.id}.png`))
  project = join(work, 'project')
  leafsegJson('project', 'create', project, '--name', 'Export')
  leafsegJson('import', photos, '--project', project, '--dataset', 'leaves', '--masks', masks)
  leafsegJson('split', '--project', project, '--dataset', 'leaves', '--ratio', '67/33/0', '--seed', '1')
  leafsegJson('train', '--project', project, '--dataset', 'leaves', '--input-size', '32', '--filters', '4', '--depth', '2', '--batch', '4', '--epochs', '1', '--name', 'tiny')
})

test('leafseg export writes the run’s checkpoint as ONNX, and onnxruntime predicts what the app predicts', async () => {
  const file = join(work, 'tiny.onnx')
  const summary = leafsegJson<{ run: number; checkpoint: string; file: string; bytes: number }>('export', '--project', project, '--run', 'tiny', '--checkpoint', 'last', '--onnx', file)
  assert.equal(summary.checkpoint, 'last')
  assert.equal(summary.file, file)
  assert.ok(summary.bytes > 10_000)

  const model = await loadModel(join(project, 'runs', String(summary.run), 'last'))
  const session = await ort.InferenceSession.create(file)
  const tiles = new Float32Array(3 * 32 * 32 * 3).map((_, i) => ((i * 7919) % 255) / 255)
  const expected = model.predictBatch(tiles, 3)
  const got = (await session.run({ image: new ort.Tensor('float32', tiles, [3, 32, 32, 3]) })).mask.data as Float32Array
  let worst = 0
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]))
  assert.equal(got.length, expected.length)
  assert.ok(worst <= 1e-4, `largest difference ${worst}`)
  model.dispose()
  await session.release()
})

test('leafseg export refuses a bad checkpoint name and a run without that checkpoint, writing nothing', () => {
  const file = join(work, 'refused.onnx')
  const bad = leafseg('export', '--project', project, '--run', 'tiny', '--checkpoint', 'newest', '--onnx', file)
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--checkpoint must be best or last, not “newest”/)
  const noRun = leafseg('export', '--project', project, '--run', 'missing', '--onnx', file)
  assert.equal(noRun.code, 2)
  assert.match(noRun.stderr, /The project has no run “missing”/)
  const noFile = leafseg('export', '--project', project, '--run', 'tiny')
  assert.equal(noFile.code, 2)
  assert.match(noFile.stderr, /--onnx is required/)
  assert.equal(existsSync(file), false)
})
