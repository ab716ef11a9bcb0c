// "Clean up project" on a real project with leftovers of every kind: exactly the unreferenced files go.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import { tempPathFor, tempOwner } from '../../src/main/core/store/temp'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tempDir } from '../helpers/temp'
import { leafsegWith } from '../helpers/cli'

/** Every file under `dir`, project-relative, sorted. */
function files(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name))
      else out.push(relative(dir, join(d, e.name)))
    }
  }
  walk(dir)
  return out.sort()
}

async function photo(path: string, seed: number): Promise<void> {
  const data = Buffer.alloc(24 * 16 * 3, seed * 40)
  writeFileSync(
    path,
    await sharp(data, { raw: { width: 24, height: 16, channels: 3 } })
      .png()
      .toBuffer()
  )
}

/** A process id that is surely not running: a child that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout)
}

test('clean removes exactly the files no record uses: deleted datasets, runs, batches, interrupted writes and imports', async () => {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const dir = join(tempDir(), 'project')
  await service.api['projects.create']({ dir, name: 'Leftovers' })
  const wait = async (job: Promise<JobInfo>) => {
    const done = await service.requireProject().jobs.wait((await job).id)
    // c's mask has no photo in "Kept": that import ends with a problem, and is done all the same.
    assert.ok(['succeeded', 'done-with-problems'].includes(done.status), done.error ?? '')
  }
  // Two datasets sharing one photo (same content), each with masks; trimaps for the first.
  const src = tempDir()
  for (const [name, seed] of [
    ['a', 1],
    ['b', 2],
    ['c', 3]
  ] as const)
    await photo(join(src, `${name}.png`), seed)
  const masks = tempDir()
  const m = Buffer.alloc(24 * 16)
  m.fill(255, 24 * 4, 24 * 10)
  for (const name of ['a', 'b', 'c'])
    writeFileSync(
      join(masks, `${name}_mask.png`),
      await sharp(m, { raw: { width: 24, height: 16, channels: 1 } })
        .png()
        .toBuffer()
    )
  const kept = await service.api['datasets.create']({ name: 'Kept' })
  const gone = await service.api['datasets.create']({ name: 'Deleted' })
  await wait(service.api['datasets.importPhotos']({ datasetId: kept.id, paths: [join(src, 'a.png'), join(src, 'b.png')] }))
  await wait(service.api['datasets.importPhotos']({ datasetId: gone.id, paths: [join(src, 'b.png'), join(src, 'c.png')] }))
  await wait(service.api['datasets.importMasks']({ datasetId: kept.id, source: { kind: 'folder', dir: masks } }))
  await wait(service.api['datasets.importMasks']({ datasetId: gone.id, source: { kind: 'folder', dir: masks } }))
  await wait(service.api['matting.makeTrimaps']({ datasetId: gone.id, mode: 'fixed', kernelSize: 3, fgIterations: 1, bgIterations: 1 }))
  const referenced = files(dir)

  // The deleted dataset's own files (c's photo and thumbnail; its masks and trimaps) become unreferenced;
  // b's photo stays, the kept dataset uses the same file.
  const goneRows = service
    .requireProject()
    .project.db.prepare(
      `SELECT p.file, p.thumbnail, m.file AS mask, t.file AS trimap, p.name FROM photos p JOIN masks m ON m.photo_id = p.id JOIN trimaps t ON t.photo_id = p.id WHERE p.dataset_id = ?`
    )
    .all(gone.id) as { file: string; thumbnail: string; mask: string; trimap: string; name: string }[]
  await service.api['datasets.delete']({ id: gone.id })
  const ofDeleted = goneRows.flatMap((r) => (r.name === 'c.png' ? [r.file, r.thumbnail, r.mask, r.trimap] : [r.mask, r.trimap]))

  // Leftovers: a deleted run's folder, a deleted batch's folder, an orphan photo of an interrupted import,
  // a dropped upload, and temp files of a dead process (one from the old naming).
  const dead = deadPid()
  const leftovers = [
    'runs/41/last/model.json',
    'runs/41/masks/1.png',
    'predictions/9/leaf.png',
    'photos/ff/ff00.png',
    'imports/uploads/batch1/x.png',
    relative(dir, tempPathFor(join(dir, 'masks', '1.png'))).replace(`tmp-${process.pid}-`, `tmp-${dead}-`),
    `masks/.2.png.${dead}.1700000000000.tmp`
  ]
  for (const f of leftovers) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    writeFileSync(join(dir, f), 'x'.repeat(100))
  }
  // A temp file of a live process (this one) is somebody's write in progress: it stays.
  const live = relative(dir, tempPathFor(join(dir, 'mattes', '1.png')))
  writeFileSync(join(dir, live), 'y')
  assert.equal(tempOwner(live), process.pid)

  const before = files(dir)
  const sizes = new Map(before.map((f) => [f, statSync(join(dir, f)).size]))
  const dry = await service.api['projects.clean']({ dryRun: true })
  assert.deepEqual(files(dir), before, 'a dry run changes nothing')
  const expectedGone = [...ofDeleted, ...leftovers].sort()
  const wal = (f: string) => f.startsWith('leafseg.sqlite')
  const report = await service.api['projects.clean']({})
  const after = files(dir)
  assert.deepEqual(before.filter((f) => !after.includes(f) && !wal(f)).sort(), expectedGone, 'exactly the unreferenced files went')
  assert.ok(after.includes(live))
  for (const f of referenced.filter((f) => !ofDeleted.includes(f))) assert.ok(existsSync(join(dir, f)), `${f} is still used and stays`)
  assert.equal(report.files, expectedGone.length)
  assert.equal(
    report.bytes,
    expectedGone.reduce((sum, f) => sum + sizes.get(f)!, 0)
  )
  assert.deepEqual({ files: dry.files, bytes: dry.bytes }, { files: report.files, bytes: report.bytes }, 'the dry run reported what was then removed')
  assert.ok(report.items.some((i) => i.path === 'runs/41/' && i.why === 'its training run was deleted' && i.files === 2))

  // Nothing left to clean; the kept dataset still works.
  assert.deepEqual((await service.api['projects.clean']({})).files, 0)
  assert.equal((await service.api['datasets.list']({}))[0].labelled, 2)

  // While a job runs, cleaning is refused (the job writes files no record names yet).
  const job = service.requireProject().jobs.start('demo', 'Counting', { steps: 20, stepMs: 20 })
  const refused = await dispatch(service, 'projects.clean', {})
  assert.ok(!refused.ok && refused.error.code === 'conflict' && /Wait for “Counting”/.test(refused.error.message))
  await service.requireProject().jobs.wait(job.id)
  service.dispose()
})

test('temp files of dead processes are removed when the project opens', async () => {
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const dir = join(tempDir(), 'project')
  await service.api['projects.create']({ dir, name: 'Temps' })
  service.closeProject()
  const dead = deadPid()
  const abandoned = [`runs/3/last.tmp-${dead}/model.json`, `thumbnails/ab/.ab12.webp.tmp-${dead}-0badc0de`, `photos/ab/ab12.png.${dead}.tmp`]
  const inUse = `runs/3/last.tmp-${process.pid}/model.json`
  for (const f of [...abandoned, inUse]) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    writeFileSync(join(dir, f), 'x')
  }
  await service.api['projects.open']({ dir })
  assert.ok(!existsSync(join(dir, `runs/3/last.tmp-${dead}`)))
  for (const f of abandoned) assert.ok(!existsSync(join(dir, f)), f)
  assert.ok(existsSync(join(dir, inUse)))
  service.dispose()
})

test('leafseg project clean: --dry-run lists, then it removes and reports what it freed', async () => {
  const userData = tempDir()
  const service = new LeafsegService({ host: 'web', userDataDir: userData, jobProcess: inProcessJobs, typedPathsAreChoices: true })
  const dir = join(tempDir(), 'project')
  await service.api['projects.create']({ dir, name: 'CLI' })
  service.dispose()
  mkdirSync(join(dir, 'runs', '7'), { recursive: true })
  writeFileSync(join(dir, 'runs', '7', 'model.json'), '{}'.repeat(50))
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/main.ts'), 'project', 'clean', '--project', dir, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LEAFSEG_USER_DATA: userData }
    })
  const dry = cli('--dry-run')
  assert.equal(dry.status, 0, dry.stderr)
  assert.match(dry.stdout, /runs\/7\/ {2}\(its training run was deleted; 100 bytes\)\nWould remove 1 files, 100 bytes\./)
  assert.ok(existsSync(join(dir, 'runs', '7')))
  const done = cli('--json')
  assert.equal(done.status, 0, done.stderr)
  const report = JSON.parse(done.stdout)
  assert.equal(report.files ?? report.result?.files, 1)
  assert.ok(!existsSync(join(dir, 'runs', '7')))
})

test('clean never follows a symlink: links back to the project end the walk at once and only the links go', async () => {
  const dir = join(tempDir(), 'project')
  assert.equal(leafsegWith({}, 'project', 'create', dir, '--name', 'Links').code, 0)
  // Each link leads back to the project: followed, the walk would branch without end (the command never ended).
  symlinkSync('..', join(dir, 'photos', 'a'))
  symlinkSync('..', join(dir, 'photos', 'b'))
  symlinkSync('.', join(dir, 'masks', 'loop'))
  const dry = leafsegWith({}, 'project', 'clean', '--project', dir, '--dry-run', '--json')
  assert.equal(dry.code, 0, dry.stderr || 'the walk did not end')
  const report = JSON.parse(dry.stdout) as { items: { path: string; files: number }[] }
  assert.deepEqual(report.items.map((i) => [i.path, i.files]).sort(), [
    ['masks/loop', 1],
    ['photos/a', 1],
    ['photos/b', 1]
  ])
  const clean = leafsegWith({}, 'project', 'clean', '--project', dir, '--json')
  assert.equal(clean.code, 0, clean.stderr)
  assert.deepEqual(readdirSync(join(dir, 'photos')), [])
  assert.ok(existsSync(join(dir, 'leafseg.sqlite')), 'what the links pointed at is untouched')
})

test('every column of the schema that names a file is one clean-up keeps: a file any record names is never removed', async () => {
  const { fileColumns } = await import('../../src/main/core/store/clean')
  const { createProject } = await import('../../src/main/core/project')
  const project = createProject(join(tempDir(), 'p'), 'p')
  try {
    const tables = (project.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map(
      (t) => t.name
    )
    const naming = tables.flatMap((table) =>
      (project.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
        .map((c) => c.name)
        .filter((c) => c === 'file' || c === 'thumbnail' || c.endsWith('_file'))
        .map((c) => `${table}.${c}`)
    )
    const kept = Object.entries(fileColumns).flatMap(([table, columns]) => columns.map((c) => `${table}.${c}`))
    assert.ok(naming.includes('masks.probability_file'), 'the schema still names a model-made mask’s prediction')
    // pending_files.path lists files being written (kept by its own rule); no other column may name a file unseen.
    assert.deepEqual(naming.filter((c) => !kept.includes(c)).sort(), [])
  } finally {
    project.close()
  }
})
