// Prediction from the command line, as real processes: `leafseg export` (ONNX), the engine that predicts, and a
// batch whose process was killed, resumed with `leafseg predict resume`.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { spawn } from 'node:child_process'
import Database from 'better-sqlite3'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'
import { cliEntry, cliEnv, leafseg, leafsegJson, leafsegWith } from '../helpers/cli'
import { loadModel } from '../../src/main/core/model/predict'
import { readRaster } from '../../src/main/core/imaging/raster'

let work: string
let project: string

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
  leafsegJson(
    'train',
    '--project',
    project,
    '--dataset',
    'leaves',
    '--input-size',
    '32',
    '--filters',
    '4',
    '--depth',
    '2',
    '--batch',
    '4',
    '--epochs',
    '1',
    '--name',
    'tiny'
  )
})

test('leafseg export writes the run’s checkpoint as ONNX, and onnxruntime predicts what the app predicts', async () => {
  const file = join(work, 'tiny.onnx')
  const summary = leafsegJson<{ run: number; checkpoint: string; file: string; bytes: number }>(
    'export',
    '--project',
    project,
    '--run',
    'tiny',
    '--checkpoint',
    'last',
    '--onnx',
    file
  )
  assert.equal(summary.checkpoint, 'last')
  assert.equal(summary.file, file)
  assert.ok(summary.bytes > 10_000)

  const model = await loadModel(join(project, 'runs', String(summary.run), 'last'))
  const session = await ort.InferenceSession.create(file)
  const tiles = new Float32Array(3 * 32 * 32 * 3).map((_, i) => ((i * 7919) % 255) / 255)
  const expected = await model.predictBatch(tiles, 3)
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

test('leafseg export --onnx never replaces the project database, a link or an existing file without --force', () => {
  // Once, --onnx <project>/leafseg.sqlite replaced the project's database with the model.
  const database = join(project, 'leafseg.sqlite')
  const before = readFileSync(database)
  const onDatabase = leafseg('export', '--project', project, '--run', 'tiny', '--onnx', database)
  assert.notEqual(onDatabase.code, 0)
  assert.match(
    onDatabase.stderr,
    new RegExp(`Leafseg will not write ${database.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is the database of the Leafseg project`)
  )
  assert.ok(readFileSync(database).subarray(0, 16).equals(before.subarray(0, 16)), 'the database is still a database')
  const file = join(work, 'kept.onnx')
  writeFileSync(file, 'an older export')
  const refused = leafseg('export', '--project', project, '--run', 'tiny', '--onnx', file)
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /kept\.onnx already exists: choose another name, or replace it \(--force/)
  assert.equal(readFileSync(file, 'utf8'), 'an older export')
  const forced = leafsegJson<{ bytes: number }>('export', '--project', project, '--run', 'tiny', '--onnx', file, '--force')
  assert.equal(readFileSync(file).length, forced.bytes)
})

test('leafseg predict --model says which engine predicts; onnxruntime and tfjs agree; a broken photo is listed, the rest go on', async () => {
  const images = join(work, 'new photos')
  for (const s of await makePhotos(images, 3, { width: 70, height: 50, seed: 8, format: 'jpg' })) rmSync(s.maskPath)
  writeFileSync(join(images, 'broken.jpg'), 'not a JPEG')
  const model = join(project, 'runs', '1', 'last')
  type Summary = { masks: number; engine: string; problems: { path: string; reason: string }[] }
  const run = (engine: string, out: string) => {
    const r = leafsegWith({ LEAFSEG_ENGINE: engine }, 'predict', '--model', model, '--images', images, '--out', out, '--json')
    // broken.jpg failed, the others are done: exit code 1, and stderr says so.
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /leafseg predict: 1 item failed \(see "problems" in the JSON\); exit code 1\./)
    return JSON.parse(r.stdout) as Summary
  }
  const onnx = run('onnxruntime', join(work, 'by-onnx'))
  const tfjs = run('tfjs', join(work, 'by-tfjs'))
  assert.match(onnx.engine, /^onnxruntime \(CPU, \d+ threads?\)$/)
  assert.match(tfjs.engine, /^tfjs \(/)
  for (const summary of [onnx, tfjs]) {
    assert.equal(summary.masks, 3)
    assert.deepEqual(
      summary.problems.map((p) => p.path),
      [join(images, 'broken.jpg')]
    )
  }
  const human = leafseg('predict', '--model', model, '--images', images, '--out', join(work, 'by-default'))
  assert.match(human.stdout, /Predicted 3 mask\(s\) into .* with onnxruntime \(CPU/)
  for (const name of ['leaf000', 'leaf001', 'leaf002']) {
    const a = await readRaster(join(work, 'by-onnx', `${name}.png`), 1)
    const b = await readRaster(join(work, 'by-tfjs', `${name}.png`), 1)
    const differing = a.data.reduce((n, v, i) => n + (v !== b.data[i] ? 1 : 0), 0)
    assert.ok(differing <= a.data.length / 1000, `${name}: ${differing} pixels differ`)
  }
})

test('leafseg predict --model gives photos that share a name masks of their own, and reports listed files that are no photos', async () => {
  // a/leaf.png and a/leaf.jpg share a stem; b/leaf.png, listed from a/, lies outside the list's folder. Once,
  // one mask was on disk while "masks: 3" was reported, the CSV had two rows named leaf.png and notes.txt was dropped.
  const dir = join(work, 'same names')
  for (const [sub, format] of [
    ['a', 'png'],
    ['a', 'jpg'],
    ['b', 'png']
  ] as const) {
    const [s] = await makePhotos(join(dir, sub, format), 1, { width: 40, height: 30, seed: 3, format })
    renameSync(s.imagePath, join(dir, sub, `leaf.${format}`))
  }
  writeFileSync(join(dir, 'a', 'notes.txt'), 'plot 12, day 3\n')
  const list = join(dir, 'a', 'photos.txt')
  writeFileSync(list, 'leaf.png\nleaf.jpg\n../b/leaf.png\nnotes.txt\n')
  const out = join(work, 'same-names-out')
  const csv = join(work, 'same-names.csv')
  const r = leafsegWith(
    { LEAFSEG_ENGINE: 'tfjs' },
    'predict',
    '--model',
    join(project, 'runs', '1', 'last'),
    '--list',
    list,
    '--out',
    out,
    '--csv',
    csv,
    '--json'
  )
  assert.equal(r.code, 1, r.stderr) // notes.txt
  const summary = JSON.parse(r.stdout) as { masks: number; problems: { path: string; reason: string }[] }
  assert.equal(summary.masks, 3)
  assert.deepEqual(summary.problems, [
    { path: join(dir, 'a', 'notes.txt'), reason: `${join(dir, 'a', 'notes.txt')} is listed but is not an image Leafseg reads (JPEG, PNG, TIFF, BMP or WebP)` }
  ])
  const outsideMask = join(out, join(dir, 'b').slice(1), 'leaf.png')
  for (const mask of [join(out, 'leaf.png.png'), join(out, 'leaf.jpg.png'), outsideMask]) assert.ok(existsSync(mask), mask)
  const names = readFileSync(csv, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0])
  assert.deepEqual(names.sort(), [join(dir, 'b', 'leaf.png').slice(1), 'leaf.jpg', 'leaf.png'].sort())
})

test('a batch whose process was killed is resumed by leafseg predict resume, skipping the photos it has', async () => {
  const images = join(work, 'many photos')
  for (const s of await makePhotos(images, 12, { width: 500, height: 400, seed: 12, format: 'jpg' })) rmSync(s.maskPath)
  const out = join(work, 'killed-out')
  // tfjs, one thread: slow enough that the process is killed part-way.
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'predict', '--project', project, '--run', 'tiny', '--images', images, '--out', out], {
    env: { ...cliEnv, LEAFSEG_ENGINE: 'tfjs' },
    stdio: 'ignore'
  })
  const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
  const predicted = () => {
    const row = db
      .prepare('SELECT COUNT(*) AS n, MAX(batch_id) AS batch FROM predicted_photos WHERE batch_id = (SELECT MAX(id) FROM prediction_batches)')
      .get() as { n: number; batch: number | null }
    return row
  }
  try {
    await waitFor(() => predicted().n >= 2, { what: 'leafseg predict to write its second photo', timeoutMs: 60_000, intervalMs: 100 })
  } finally {
    child.kill('SIGKILL')
  }
  await new Promise((resolve) => child.once('exit', resolve))
  const before = predicted()
  assert.ok(before.n >= 2 && before.n < 12, `${before.n} photos predicted before the kill`)

  const csv = join(work, 'resumed.csv')
  const resumed = leafsegJson<{ batch: number; photos: number; skipped: number; problems: unknown[]; engine: string }>(
    'predict',
    'resume',
    '--project',
    project,
    '--out',
    out,
    '--csv',
    csv
  )
  assert.equal(resumed.batch, before.batch)
  assert.equal(resumed.skipped, before.n)
  assert.equal(resumed.photos, 12 - before.n)
  assert.deepEqual(resumed.problems, [])
  assert.equal(predicted().n, 12)
  assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 13)
  db.close()
  const nothingLeft = leafseg('predict', 'resume', '--project', project)
  assert.equal(nothingLeft.code, 2)
  assert.match(nothingLeft.stderr, /No prediction batch in this project can be resumed/)
})
