// Sharded prediction as a cluster runs it: 4 shards as 4 processes at once (two by K/N, one as a Slurm array task,
// one as a Kubernetes Indexed Job pod), merged, equal to one unsharded run.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { initBackend } from '../../src/main/core/model/backend'
import { buildUnet } from '../../src/main/core/model/unet'
import { saveModelFiles } from '../../src/main/core/model/model-io'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'
import { cliEntry, cliEnv, leafseg } from '../helpers/cli'

function leafsegAsync(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { env: { ...cliEnv, LEAFSEG_ONNX_THREADS: '1', ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

test('4 shards in 4 processes, merged, give what one unsharded run gives', async () => {
  const work = tempDir()
  await initBackend({ force: 'wasm' })
  const model = join(work, 'model')
  mkdirSync(model)
  const unet = buildUnet({ inputSize: 32, baseFilters: 4, depth: 2 }, 3)
  await saveModelFiles(unet, model, { inputSize: 32, baseFilters: 4, depth: 2, sampling: { mode: 'crops', scale: 1 }, loss: 'bce', epoch: 1, validationIoU: 0.5 })
  unet.dispose()
  const images = join(work, 'photos')
  for (const s of await makePhotos(join(images, 'day 1'), 6, { width: 90, height: 60, seed: 1, format: 'jpg' })) rmSync(s.maskPath)
  for (const s of await makePhotos(join(images, 'day 2'), 5, { width: 90, height: 60, seed: 2, format: 'jpg' })) rmSync(s.maskPath)
  writeFileSync(join(images, 'day 2', 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1)]))
  // Day 1 and day 2 photos share names: masks go to each shard's own folder; rows are told apart by path.
  const common = ['predict', '--model', model, '--images', images, '--threshold', '0.5', '--json']
  const shard = (k: number) => join(work, `shard-${k}`)
  const runs = await Promise.all([
    leafsegAsync({}, [...common, '--out', shard(1), '--shard', '1/4']),
    leafsegAsync({}, [...common, '--out', shard(2), '--shard', '2/4']),
    leafsegAsync({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }, [...common, '--out', shard(3), '--shard', 'auto']),
    leafsegAsync({ JOB_COMPLETION_INDEX: '3' }, [...common, '--out', shard(4), '--shard', 'auto', '--shards', '4'])
  ])
  const summaries = runs.map((r) => {
    const summary = JSON.parse(r.stdout) as { masks: number; shard: { index: number; count: number }; problems: { path: string }[] }
    // The shard with broken.jpg exits 1 (an item failed), the others 0.
    assert.equal(r.code, summary.problems.length > 0 ? 1 : 0, r.stderr)
    return summary
  })
  assert.deepEqual(summaries.map((s) => s.shard), [1, 2, 3, 4].map((index) => ({ index, count: 4 })))
  // 12 files: 3 per shard; the broken one fails in its shard only.
  assert.deepEqual(summaries.map((s) => s.masks + s.problems.length), [3, 3, 3, 3])

  const csv = join(work, 'merged.csv')
  // Every shard is there, but a photo one of them could not predict is a failed item: exit 1, as that shard's did.
  const mergedRun = leafseg('predict', 'merge', shard(1), shard(2), shard(3), shard(4), '--csv', csv, '--json')
  assert.equal(mergedRun.code, 1, mergedRun.stderr)
  type Merged = { rows: number; shards: number; missingShards: number[]; duplicatePhotos: string[]; missingPhotos: { path: string; reason: string }[] }
  const merged = JSON.parse(mergedRun.stdout) as Merged
  assert.deepEqual([merged.rows, merged.shards, merged.missingShards, merged.duplicatePhotos], [11, 4, [], []])
  assert.deepEqual(merged.missingPhotos.map((p) => relative(images, p.path)), ['day 2/broken.jpg'])

  // One unsharded run, from a list of the same photos in another order.
  const list = join(images, 'photos.txt')
  const files = ['day 2', 'day 1'].flatMap((d) => readdirSync(join(images, d)).map((f) => `${d}/${f}`))
  writeFileSync(list, `# every photo\n${files.reverse().join('\n')}\n`)
  const whole = join(work, 'whole')
  const single = await leafsegAsync({}, ['predict', '--model', model, '--list', list, '--out', whole, '--csv', join(work, 'whole.csv'), '--json'])
  assert.equal(single.code, 1, single.stderr) // broken.jpg
  assert.equal(readFileSync(csv, 'utf8'), readFileSync(join(work, 'whole.csv'), 'utf8'))
  // And the per-leaf CSVs beside them.
  const leaves = readFileSync(join(work, 'merged.leaves.csv'), 'utf8')
  assert.equal(leaves, readFileSync(join(work, 'whole.leaves.csv'), 'utf8'))
  assert.match(leaves.split('\n')[0], /^photo,region,centroid_x,centroid_y,area_px,area_mm2,perimeter_px,/)
  // The masks mirror the photos' folders, and are the same bytes whichever process made them.
  const pngs = (dir: string, under = ''): string[] =>
    readdirSync(join(dir, under), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? pngs(dir, join(under, e.name)) : e.name.endsWith('.png') ? [join(under, e.name)] : []))
  const shardMasks = [1, 2, 3, 4].flatMap((k) => pngs(shard(k)).map((f) => ({ k, f })))
  assert.equal(shardMasks.length, 11)
  assert.deepEqual(shardMasks.map((m) => m.f).sort(), pngs(whole).sort())
  for (const { k, f } of shardMasks) assert.ok(readFileSync(join(shard(k), f)).equals(readFileSync(join(whole, f))), `${f} of shard ${k}`)

  // Missing shards exit 1, so that a scheduler's afterok does not go on with a quarter of the data.
  const noneFound = leafseg('predict', 'merge', shard(1), '--csv', join(work, 'part.csv'))
  assert.equal(noneFound.code, 1, noneFound.stderr)
  assert.match(noneFound.stdout, /Merged 1 of 4 shard\(s\): 3 photo\(s\)[^]*Missing shards: 2, 3, 4 \(of 4\)/)
  assert.match(noneFound.stderr, /leafseg predict merge: 3 items failed \(listed above\); exit code 1\./)
  // A folder that is not a shard's output (its shard failed before writing shard.json) exits 1 too, naming it.
  const empty = join(work, 'shard-failed')
  mkdirSync(empty)
  const failed = leafseg('predict', 'merge', shard(1), empty, '--csv', join(work, 'part2.csv'))
  assert.equal(failed.code, 1, failed.stderr)
  assert.ok(failed.stderr.includes(empty), failed.stderr)
})
