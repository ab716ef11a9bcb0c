// Sharding: equal deterministic parts, the shard a cluster task is, and merging shards' manifests.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mergeShards, readPhotoList, shardPart, SHARD_MANIFEST } from '../../src/main/core/prediction/shards'
import { shardFromOptions } from '../../src/cli/commands/shards'
import { UsageError } from '../../src/cli/command'
import { measurementColumns } from '../../src/main/core/prediction/csv'
import type { MeasurementRow } from '../../src/shared/api/prediction'
import { tempDir } from '../helpers/temp'

test('the parts are contiguous, differ in size by at most one, and hold every item once', () => {
  const items = Array.from({ length: 10 }, (_, i) => i)
  const parts = [1, 2, 3, 4].map((index) => shardPart(items, { index, count: 4 }))
  assert.deepEqual(parts, [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]])
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
  const manifest = { format: 'leafseg-shard', version: 1, shard: { index, count }, model, threshold: 0.5, photos, predicted, problems: failed.map((path) => ({ path, reason: 'Input file has corrupt header' })), engine: 'onnxruntime (CPU, 1 thread)', finishedAt: '' }
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
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['a.jpg', 'b.jpg', 'c.jpg'], 'rows in path order')

  await assert.rejects(mergeShards([one, shardDir(2, 4, [])], csv), /is shard 2\/4, but .* is one of 3/)
  await assert.rejects(mergeShards([one, shardDir(2, 3, [], [], '/other/model')], csv), /not parts of one run/)
  await assert.rejects(mergeShards([tempDir()], csv), /holds no shard\.json: it is not the output of a finished shard/)
})
