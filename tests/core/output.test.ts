// Outputs the user names (an ONNX export, a CSV, a folder of masks) never land on a project's own files, a link,
// a device or pipe, or an existing file without consent. Real files, a real FIFO, real symlinks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkOutputFile, checkOutputFolder, writeOutputFile } from '../../src/main/core/store/output'
import { tempDir } from '../helpers/temp'

/** A folder that looks like a Leafseg project to the check: its database and content folders. */
function fakeProject(): string {
  const dir = join(tempDir(), 'project')
  for (const folder of ['photos', 'masks', 'runs/3/best']) mkdirSync(join(dir, folder), { recursive: true })
  for (const name of ['leafseg.sqlite', 'leafseg.sqlite-wal']) writeFileSync(join(dir, name), 'SQLite format 3')
  return dir
}

test("an output is refused on a project's database, journals and content folders, also through a linked folder", async () => {
  const project = fakeProject()
  for (const rel of ['leafseg.sqlite', 'leafseg.sqlite-wal', 'leafseg.sqlite-shm', 'photos/ab.onnx', 'runs/3/best/weights.bin', 'masks/new/leaf.csv']) {
    await assert.rejects(
      writeOutputFile(join(project, rel), 'onnx bytes'),
      (e: Error) => e.message.startsWith(`Leafseg will not write ${join(project, rel)}:`) && /Leafseg project/.test(e.message),
      rel
    )
  }
  assert.equal(readFileSync(join(project, 'leafseg.sqlite'), 'utf8'), 'SQLite format 3', 'the database is untouched')
  // A folder elsewhere that links into the project's runs/ leads there all the same.
  const elsewhere = tempDir()
  symlinkSync(join(project, 'runs'), join(elsewhere, 'runs-link'))
  assert.throws(() => checkOutputFile(join(elsewhere, 'runs-link', 'model.onnx')), /lies in runs\/ of the Leafseg project/)
  // Beside the database, outside its folders, is the user's own space.
  assert.equal(await writeOutputFile(join(project, 'leaf-area.csv'), 'photo\n'), join(project, 'leaf-area.csv'))
})

test('an output is refused on a symlink, a FIFO or a folder, and on an existing file unless overwrite', async () => {
  const dir = tempDir()
  const target = join(dir, 'precious.txt')
  writeFileSync(target, 'keep me')
  symlinkSync(target, join(dir, 'link.onnx'))
  await assert.rejects(writeOutputFile(join(dir, 'link.onnx'), 'x'), /link\.onnx: it is a symbolic link/)
  assert.ok(lstatSync(join(dir, 'link.onnx')).isSymbolicLink(), 'the link is still a link')
  assert.equal(readFileSync(target, 'utf8'), 'keep me')
  execFileSync('mkfifo', [join(dir, 'pipe.onnx')])
  await assert.rejects(
    writeOutputFile(join(dir, 'pipe.onnx'), 'x', { overwrite: true }),
    /pipe\.onnx: it is not a regular file \(a device, a pipe or a socket\)/
  )
  assert.ok(lstatSync(join(dir, 'pipe.onnx')).isFIFO(), 'the FIFO was not replaced')
  await assert.rejects(writeOutputFile(dir, 'x'), /it is a folder/)
  await assert.rejects(
    writeOutputFile(target, 'x'),
    (e: Error & { code?: string }) => e.code === 'conflict' && /precious\.txt already exists: choose another name, or replace it \(--force/.test(e.message)
  )
  assert.equal(readFileSync(target, 'utf8'), 'keep me')
  await writeOutputFile(target, 'replaced', { overwrite: true })
  assert.equal(readFileSync(target, 'utf8'), 'replaced')
})

test("an output folder is refused inside a project's content folders and when it is a file", () => {
  const project = fakeProject()
  assert.throws(() => checkOutputFolder(join(project, 'masks')), /will not write into .*masks: it lies in masks\/ of the Leafseg project/)
  assert.throws(() => checkOutputFolder(join(project, 'runs', '3', 'exported')), /lies in runs\//)
  assert.throws(() => checkOutputFolder(join(project, 'leafseg.sqlite')), /it is not a folder/)
  assert.equal(checkOutputFolder(join(project, 'exports')), join(project, 'exports'))
  const free = tempDir()
  assert.equal(checkOutputFolder(join(free, 'new', 'masks')), join(free, 'new', 'masks'))
})
