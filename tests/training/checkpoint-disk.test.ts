// A disk that fills in the middle of an epoch's checkpoints (a real 20 MB tmpfs): best/ and last/ stay at the
// epoch training last reported (what the database records), never one ahead of it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync, ftruncateSync, fstatSync } from 'node:fs'
import { join } from 'node:path'
import { openEngine, type OpenEngine } from '../../src/main/core/model/engine-choice'
import { trainUnet, type TrainOptions } from '../../src/main/core/training/train'
import { tempDir } from '../helpers/temp'
import { makePhotos } from './fixtures'

const mountPoint = tempDir('leafseg-tmpfs-')
let mounted = false
let engine: OpenEngine

before(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint])
  mounted = true
  engine = await openEngine('wasm')
})

after(async () => {
  await engine?.close()
  if (mounted) execFileSync('umount', ['-l', mountPoint])
})

const bytesIn = (dir: string): number => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
const epochOf = (dir: string): number => JSON.parse(readFileSync(join(dir, 'leafseg.json'), 'utf8')).epoch

/** Write zeros into `file` until the disk refuses, then give `leave` bytes back. */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'w')
  try {
    for (const chunk of [1 << 20, 1 << 14, 1 << 10, 64]) {
      const buf = Buffer.alloc(chunk)
      for (;;) {
        try {
          writeSync(fd, buf)
        } catch {
          break
        }
      }
    }
    ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leave))
  } finally {
    closeSync(fd)
  }
}

test('the disk fills during epoch 2’s checkpoints: best/ and last/ stay at epoch 1, the epoch training last reported', async () => {
  const photos = await makePhotos(join(tempDir(), 'photos'), 24, { width: 48, height: 40, seed: 7 })
  const runDir = join(mountPoint, 'run')
  const options = (epochs: number, reported: number[]): TrainOptions => ({
    runDir,
    train: photos.slice(0, 18),
    validation: photos.slice(18),
    model: { inputSize: 32, baseFilters: 8, depth: 2 },
    batchSize: 4,
    epochs,
    // at this rate epoch 2 beats epoch 1, so it writes a best checkpoint
    learningRate: 1e-2,
    loss: 'bce+dice',
    augment: { flips: true, rotate90: true },
    seed: 3,
    engine,
    resume: true,
    onEpoch: (m) => reported.push(m.epoch)
  })
  const reported: number[] = []
  await trainUnet(options(1, reported))
  assert.deepEqual(reported, [1])
  // room for a best checkpoint and half of a last one (weights, optimizer state, history): epoch 2 cannot finish
  fill(join(mountPoint, 'filler'), Math.round(bytesIn(join(runDir, 'best')) * 1.5))
  await assert.rejects(trainUnet(options(2, reported)), /ENOSPC|no space/i)
  assert.deepEqual(reported, [1], 'epoch 2 was never reported')
  assert.equal(epochOf(join(runDir, 'best')), 1, 'best/ is still the epoch the database names')
  assert.equal(epochOf(join(runDir, 'last')), 1)
  assert.deepEqual(readdirSync(runDir).sort(), ['best', 'last'], 'no half-written folder is left')
})
