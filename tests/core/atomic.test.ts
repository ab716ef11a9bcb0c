// writeAtomic, the one way Leafseg writes a file: the file is whole or untouched, no temp file is left behind, and a
// failure names the file while keeping the system error (so a full disk still reads as one). The full disk is real:
// a 1 MB tmpfs.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFile, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeAtomic, writeAtomicSync } from '../../src/main/core/store/atomic'
import { toErrorShape } from '../../src/main/core/store/errors'
import { tempDir } from '../helpers/temp'

const small = tempDir('leafseg-atomic-tmpfs-')
let mounted = false

before(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
  mounted = true
})

after(() => {
  if (mounted) execFileSync('umount', ['-l', small])
})

test('writeAtomic writes text, bytes or what a function writes, replacing the file and leaving no temp file', async () => {
  const dir = tempDir()
  const file = join(dir, 'a.json')
  await writeAtomic(file, '{"v":1}')
  assert.equal(readFileSync(file, 'utf8'), '{"v":1}')
  await writeAtomic(file, Uint8Array.from([1, 2, 3]))
  assert.deepEqual([...readFileSync(file)], [1, 2, 3])
  writeFileSync(join(dir, 'source'), 'copied')
  await writeAtomic(file, (tmp) => copyFile(join(dir, 'source'), tmp))
  assert.equal(readFileSync(file, 'utf8'), 'copied')
  writeAtomicSync(file, 'sync')
  assert.equal(readFileSync(file, 'utf8'), 'sync')
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'source'])
})

test('a write that fails half-way leaves the old file whole and no temp file, and names the file', async () => {
  const dir = tempDir()
  const file = join(dir, 'mask.png')
  writeFileSync(file, 'old')
  const failing = async (tmp: string) => {
    await writeFile(tmp, 'half of a new fi')
    throw new Error('the encoder stopped')
  }
  await assert.rejects(writeAtomic(file, failing), { message: `Cannot write ${file}: the encoder stopped` })
  await assert.rejects(writeAtomic(file, failing, `the measurements file ${file}`), {
    message: `Cannot write the measurements file ${file}: the encoder stopped`
  })
  assert.equal(readFileSync(file, 'utf8'), 'old')
  assert.deepEqual(readdirSync(dir), ['mask.png'])
})

test('a full disk: the old file stays, no temp file is left, and the message says the disk is full and names the file', async () => {
  const file = join(small, 'model.json')
  writeFileSync(file, 'old weights')
  const big = new Uint8Array(2 << 20)
  const err = await writeAtomic(file, big).then(
    () => assert.fail('a 2 MB write fits on a 1 MB disk'),
    (e: Error) => e
  )
  assert.match(err.message, new RegExp(`^Cannot write ${file}: ENOSPC`))
  assert.match(toErrorShape(err).message, new RegExp(`^The disk is full: the file ${file} could not be written`))
  assert.throws(
    () => writeAtomicSync(file, big),
    (e: Error) => /^The disk is full/.test(toErrorShape(e).message)
  )
  assert.equal(readFileSync(file, 'utf8'), 'old weights')
  assert.deepEqual(readdirSync(small), ['model.json'])
})

test('a write into a missing folder fails naming the file, not its temp name', async () => {
  const file = join(tempDir(), 'gone', 'x.csv')
  await assert.rejects(writeAtomic(file, 'a,b\n'), (e: Error) => toErrorShape(e).message === `${file} does not exist (was it moved or deleted?).`)
  assert.throws(
    () => writeAtomicSync(file, 'a,b\n'),
    (e: Error) => toErrorShape(e).code === 'not_found'
  )
})
