// Sharding: equal deterministic parts, the shard a cluster task is, and merging shards' manifests.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { maskNames, mergeShards, readPhotoList, shardPart, shardPhotos, SHARD_MANIFEST } from '../../src/main/core/prediction/shards'
import { shardFromOptions } from '../../src/cli/commands/shards'
import { UsageError } from '../../src/cli/command'
import { measurementColumns } from '../../src/main/core/prediction/csv'
import type { MeasurementRow } from '../../src/shared/api/prediction'
import { tempDir } from '../helpers/temp'

test('the parts are contiguous, differ in size by at most one, and hold every item once', () => {
  const items = Array.from({ length: 10 }, (_, i) => i)
  const parts = [1, 2, 3, 4].map((index) => shardPart(items, { index, count: 4 }))
  assert.deepEqual(parts, [
    [0, 1],
    [2, 3, 4],
    [5, 6],
    [7, 8, 9]
  ])
  // More shards than photos: some parts are empty, none overlap.
  const few = [1, 2, 3, 4, 5].map((index) => shardPart(['a', 'b', 'c'], { index, count: 5 }))
  assert.deepEqual(few.flat(), ['a', 'b', 'c'])
  assert.ok(few.some((p) => p.length === 0))
  assert.throws(() => shardPart(items, { index: 0, count: 4 }), /1 ≤ K ≤ N/)
})

test('--shard K/N, and auto from Slurm (its array may start anywhere) or Kubernetes (with --shards)', () => {
  assert.deepEqual(shardFromOptions({ shard: '2/4' }, {}), { index: 2, count: 4 })
  assert.equal(shardFromOptions({}, {}), undefined)
  const slurm = { SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '8' }
  assert.deepEqual(shardFromOptions({ shard: 'auto' }, slurm), { index: 3, count: 8 })
  assert.throws(() => shardFromOptions({ shard: 'auto', shards: '4' }, slurm), /--shards 4 does not match the Slurm array's 8 tasks/)
  assert.deepEqual(shardFromOptions({ shard: 'auto', shards: '5' }, { JOB_COMPLETION_INDEX: '0' }), { index: 1, count: 5 })
  assert.throws(() => shardFromOptions({ shard: 'auto' }, { JOB_COMPLETION_INDEX: '0' }), /needs --shards N/)
  assert.throws(() => shardFromOptions({ shard: 'auto' }, {}), /found neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/)
  assert.throws(() => shardFromOptions({ shard: '0/4' }, {}), /1 ≤ K ≤ N \(got 0\/4\); K counts from 1/)
  assert.throws(() => shardFromOptions({ shard: '5/4' }, {}), UsageError)
  assert.throws(() => shardFromOptions({ shard: 'half' }, {}), /K\/N \(such as 1\/4\) or auto, not “half”/)
  assert.throws(() => shardFromOptions({ shards: '4' }, {}), /--shards goes with --shard auto/)
})

test('a photo list: relative to its folder, comments and blank lines skipped; an empty list is refused', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'photos.txt'), '# plot 12\nday1/a.jpg\n\n  /data/b.jpg  \r\n')
  assert.deepEqual(await readPhotoList(join(dir, 'photos.txt')), [join(dir, 'day1/a.jpg'), '/data/b.jpg'])
  writeFileSync(join(dir, 'empty.txt'), '# nothing\n')
  await assert.rejects(readPhotoList(join(dir, 'empty.txt')), /names no photos/)
  await assert.rejects(readPhotoList(join(dir, 'missing.txt')), /Cannot read the photo list .*missing\.txt/)
})

const row = (photo: string, areaPx: number): MeasurementRow => ({
  photo,
  width: 10,
  height: 10,
  areaPx,
  areaMm2: null,
  foregroundFraction: areaPx / 100,
  leafCount: 1,
  leavesSeparated: false,
  minLeafAreaPx: 5,
  noisePx: 0,
  scalePxPerMm: null,
  source: 'predicted',
  runId: '/models/best',
  threshold: 0.5
})

function shardDir(index: number, count: number, photos: string[], failed: string[] = [], model = '/models/best'): string {
  const dir = tempDir()
  mkdirSync(dir, { recursive: true })
  const predicted = photos.filter((p) => !failed.includes(p)).map((path, i) => ({ path, row: row(path.split('/').at(-1)!, i + index), leaves: [] }))
  const manifest = {
    format: 'leafseg-shard',
    version: 1,
    shard: { index, count },
    model,
    threshold: 0.5,
    photos,
    predicted,
    problems: failed.map((path) => ({ path, reason: 'Input file has corrupt header' })),
    engine: 'onnxruntime (CPU, 1 thread)',
    finishedAt: ''
  }
  writeFileSync(join(dir, SHARD_MANIFEST), JSON.stringify(manifest))
  return dir
}

test('merging reports a missing shard, a shard given twice, a photo predicted twice and one that failed', async () => {
  const one = shardDir(1, 3, ['/p/a.jpg', '/p/b.jpg'])
  const two = shardDir(2, 3, ['/p/b.jpg', '/p/c.jpg', '/p/d.jpg'], ['/p/d.jpg'])
  const csv = join(tempDir(), 'all.csv')
  const merged = await mergeShards([two, one, one], csv)
  assert.deepEqual(
    { rows: merged.rows, shards: merged.shards, of: merged.of, missing: merged.missingShards, twice: merged.duplicateShards, photos: merged.duplicatePhotos },
    { rows: 3, shards: 2, of: 3, missing: [3], twice: [1], photos: ['/p/a.jpg', '/p/b.jpg'] }
  )
  assert.deepEqual(merged.missingPhotos, [{ path: '/p/d.jpg', reason: 'Input file has corrupt header' }])
  const lines = readFileSync(csv, 'utf8').trim().split('\n')
  assert.equal(lines[0], measurementColumns(false).join(','), 'a binary model counts regions')
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',')[0]),
    ['a.jpg', 'b.jpg', 'c.jpg'],
    'rows in path order'
  )

  await assert.rejects(mergeShards([one, shardDir(2, 4, [])], csv), /is shard 2\/4, but .* is one of 3/)
  await assert.rejects(mergeShards([one, shardDir(2, 3, [], [], '/other/model')], csv), /not parts of one run/)
  await assert.rejects(mergeShards([tempDir()], csv), /holds no shard\.json: it is not the output of a finished shard/)
})

test('a manifest is checked field by field, naming the file and the field; a huge count is refused before any work', async () => {
  const csv = join(tempDir(), 'all.csv')
  const broken = (change: (m: Record<string, any>) => void): string => {
    const dir = shardDir(1, 2, ['/p/a.jpg'])
    const manifest = JSON.parse(readFileSync(join(dir, SHARD_MANIFEST), 'utf8'))
    change(manifest)
    writeFileSync(join(dir, SHARD_MANIFEST), JSON.stringify(manifest))
    return dir
  }
  const file = (dir: string) => join(dir, SHARD_MANIFEST).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  // 300 million shards once drove merge out of memory building the list of missing ones.
  const huge = broken((m) => (m.shard = { index: 1, count: 300_000_000 }))
  await assert.rejects(mergeShards([huge], csv), new RegExp(`${file(huge)} is not a Leafseg shard manifest .*shard\\.count: .*100000`))
  const noPhotos = broken((m) => (m.photos = null))
  await assert.rejects(mergeShards([noPhotos], csv), new RegExp(`${file(noPhotos)} .*photos: `))
  const negative = broken((m) => (m.shard.count = -5))
  await assert.rejects(mergeShards([negative], csv), /shard\.count: /)
  const beyond = broken((m) => (m.shard.index = 3))
  await assert.rejects(mergeShards([beyond], csv), /shard\.index: the index is more than the count/)
  const badRow = broken((m) => (m.predicted[0].row.areaPx = 'a lot'))
  await assert.rejects(mergeShards([badRow], csv), /predicted\.0\.row\.areaPx: /)
})

test('output names: sub-folders kept, a shared stem keeps its extension, a photo outside the root its whole path', () => {
  const names = maskNames(['/p/a/leaf.png', '/p/a/leaf.jpg', '/p/a/stem.png', '/p/b/leaf.png', '/elsewhere/b/leaf.png', '/p/top.jpg'], '/p')
  assert.deepEqual(Object.fromEntries([...names].map(([path, n]) => [path, n.mask])), {
    '/p/a/leaf.png': 'a/leaf.png.png',
    '/p/a/leaf.jpg': 'a/leaf.jpg.png',
    '/p/a/stem.png': 'a/stem.png',
    '/p/b/leaf.png': 'b/leaf.png',
    '/elsewhere/b/leaf.png': 'elsewhere/b/leaf.png',
    '/p/top.jpg': 'top.png'
  })
  assert.equal(new Set([...names.values()].map((n) => n.photo)).size, 6, 'every CSV row names its photo apart')
  assert.equal(names.get('/p/a/leaf.jpg')!.photo, 'a/leaf.jpg')
})

test('a listed file that is no photo is reported as a problem, not dropped', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'notes.txt'), 'plot 12')
  writeFileSync(join(dir, 'photos.txt'), 'notes.txt\n')
  const { all, files } = await shardPhotos({ list: join(dir, 'photos.txt') }, undefined)
  assert.deepEqual(all, [join(dir, 'notes.txt')])
  assert.deepEqual(
    files.map((f) => [f.path, f.problem?.message]),
    [[join(dir, 'notes.txt'), `${join(dir, 'notes.txt')} is listed but is not an image Leafseg reads (JPEG, PNG, TIFF, BMP or WebP)`]]
  )
})

test('a shard run again into a finished shard’s folder removes its old shard.json first: killed, it counts as missing', async () => {
  const { buildUnet } = await import('../../src/main/core/model/unet')
  const { saveModelFiles } = await import('../../src/main/core/model/model-io')
  const { predictWithModelFolder } = await import('../../src/main/core/prediction/model-folder')
  const { leafPhoto, writeLeafPhoto } = await import('../helpers/leaf-photo')
  const { initBackend } = await import('../../src/main/core/model/backend')
  await initBackend({ force: 'wasm' })
  const modelDir = tempDir()
  const model = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 6)
  await saveModelFiles(model, modelDir, { inputSize: 32, baseFilters: 4, depth: 2, sampling: { mode: 'whole' }, loss: 'bce', epoch: 1, validationIoU: 0.5 })
  model.dispose()
  const images = tempDir()
  for (const name of ['a.png', 'b.png']) await writeLeafPhoto(join(images, name), leafPhoto(64, 48))
  const out = tempDir()
  const request = { model: modelDir, images, shard: { index: 1, count: 1 }, out, threshold: 0.5, measure: { minLeafAreaPx: 5, pxPerMm: null } }
  await predictWithModelFolder(request, () => {})
  assert.equal((await mergeShards([out], join(tempDir(), 'm.csv'))).rows, 2, 'the first run finished')
  // the rerun is stopped at its first photo, as a kill would stop it
  let manifestDuringRerun: boolean | null = null
  await assert.rejects(
    predictWithModelFolder(request, () => {
      manifestDuringRerun = existsSync(join(out, SHARD_MANIFEST))
      throw new Error('killed')
    }),
    /killed/
  )
  assert.equal(manifestDuringRerun, false, 'the old shard.json was still there while the rerun worked')
  await assert.rejects(mergeShards([out], join(tempDir(), 'm.csv')), /holds no shard\.json/)
})
