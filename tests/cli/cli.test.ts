// Every `leafseg` command as a person runs it: a real process on a real project, tiny generated photos and
// one epoch of a tiny network. A refused argument exits 2 with a message that names the flag, and leaves the
// project as it was (every SQLite row and every file compared before and after): every argument of every
// command is checked before any work.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { makePhotos } from '../training/fixtures'
import { tempDir } from '../helpers/temp'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { ApiArgs, ApiMethod } from '../../src/shared/api'

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const rendererBuilt = existsSync(fileURLToPath(new URL('../../out/renderer', import.meta.url)))
const userData = tempDir()
const env = { ...process.env, LEAFSEG_USER_DATA: userData }
let work: string
let project: string
let photos: string
let masks: string

function leafseg(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', env, timeout: 180_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

function leafsegJson<T>(...args: string[]): T {
  const r = leafseg(...args, '--json')
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as T
}

/** What the API answers to the same call, through the same dispatch as every host. */
async function apiRefusal<M extends ApiMethod>(method: M, args: (datasetId: number) => ApiArgs<M>): Promise<string> {
  const service = new LeafsegService({ host: 'cli', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  try {
    await service.api['projects.open']({ dir: project })
    const dataset = await service.api['datasets.findByName']({ name: 'Leaves' })
    const answer = await dispatch(service, method, args(dataset.id))
    assert.equal(answer.ok, false, `${method} should refuse`)
    return (answer as { error: { message: string } }).error.message
  } finally {
    service.dispose()
  }
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return files(p)
    return /leafseg\.sqlite-(wal|shm)$/.test(name) ? [] : [`${relative(project, p)} ${statSync(p).size}`]
  })
}

/** Every row of every table and every file (with its size): what "nothing changed" means. */
function snapshot(): string {
  const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((t) => t.name)
    const rows = Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]))
    return JSON.stringify({ rows, files: files(project).sort() })
  } finally {
    db.close()
  }
}

/** A refused command: exit 2, `message` on stderr (the flag's words, or the API's where no flag is at fault), the project untouched. */
async function assertRefused(args: string[], message: string) {
  const before = snapshot()
  const r = leafseg(...args)
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
  assert.ok(r.stderr.includes(message), `${args.join(' ')}: stderr “${r.stderr.trim()}” should say “${message}”`)
  assert.doesNotMatch(r.stderr, /\b(projects|datasets|photos|matting|training|runs|evaluations|predictions|labels|measurements)\.[a-zA-Z]+: /, `${args.join(' ')}: the message names an API method, not a flag`)
  assert.equal(snapshot(), before, `${args.join(' ')} changed the project`)
}

before(async () => {
  work = tempDir()
  photos = join(work, 'photos')
  masks = join(work, 'masks')
  const samples = await makePhotos(photos, 8, { width: 48, height: 40, seed: 3 })
  mkdirSync(masks)
  // Masks named with a suffix that only datasets/match.ts knows (the CLI's old copy did not): IMG_seg.png.
  for (const s of samples) renameSync(s.maskPath, join(masks, `${s.id}_seg.png`))
  project = join(work, 'project')
})

test('project create and project info', () => {
  const created = leafsegJson<{ project: { name: string; dir: string } }>('project', 'create', project, '--name', 'CLI tests')
  assert.equal(created.project.name, 'CLI tests')
  const info = leafseg('project', 'info', project)
  assert.equal(info.code, 0, info.stderr)
  assert.match(info.stdout, /Project “CLI tests”\n {2}folder: {2}.*\n {2}created: .*\n {2}schema: {2}\d+\n {2}jobs: {4}0/)
  const missing = leafseg('project', 'info')
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /Give the project folder/)
})

test('import photos and masks (any suffix datasets/match.ts knows); a bad mask option writes nothing', async () => {
  const summary = leafsegJson<{ dataset: { name: string; photos: number; labelled: number }; photos: { imported: number }; masks: { masks: number } }>(
    'import', photos, '--project', project, '--dataset', 'Leaves', '--masks', masks
  )
  assert.equal(summary.photos.imported, 8)
  assert.equal(summary.masks.masks, 8)
  assert.deepEqual([summary.dataset.name, summary.dataset.photos, summary.dataset.labelled], ['Leaves', 8, 8])
  // The dataset is found by name, whatever its case and spaces.
  const again = leafsegJson<{ photos: { imported: number; duplicates: unknown[] } }>('import', photos, '--project', project, '--dataset', '  leaves ')
  assert.deepEqual([again.photos.imported, again.photos.duplicates.length], [0, 8])
  // A refused mask option stops the command before the new dataset or its photos are written.
  await assertRefused(['import', photos, '--project', project, '--dataset', 'Oaks', '--masks', masks, '--threshold', '0'], '--threshold must be at least 1')
})

test('split by ratio and by lists; a bad ratio, a photo in both lists and an unknown dataset are refused', async () => {
  const byRatio = leafsegJson<{ dataset: { splits: Record<string, number> } }>('split', '--project', project, '--dataset', 'leaves', '--ratio', '75/25/0', '--seed', '1')
  assert.deepEqual(byRatio.dataset.splits, { train: 6, val: 2, test: 0, none: 0 })

  // Parts that do not add up to 100 are refused, and the split the dataset has stays.
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--ratio', '80/30'], '--ratio must add up to 100 (80/30 adds up to 110)')
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--ratio', '50/10'], '--ratio must add up to 100 (50/10 adds up to 60)')
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--ratio', '200/0/0'], '--ratio must add up to 100 (200/0/0 adds up to 200)')
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--ratio', '150/-50/0'], '--ratio must be at least 0')
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--ratio', '80/20', '--seed=-1'], '--seed must be at least 0')

  const names = readdirSync(photos).sort()
  const val = join(work, 'val.txt')
  const test_ = join(work, 'test.txt')
  writeFileSync(val, `${names[0]}\n${names[1].replace(/\.png$/, '')}\n`)
  writeFileSync(test_, `# test photos\n${names[1]}\n`)
  await assertRefused(['split', '--project', project, '--dataset', 'leaves', '--val-list', val, '--test-list', test_], 'cannot be both validation and test: ')

  writeFileSync(test_, `${names[2]}\n`)
  const byList = leafsegJson<{ dataset: { splits: Record<string, number> } }>('split', '--project', project, '--dataset', 'leaves', '--val-list', val, '--test-list', test_)
  assert.deepEqual(byList.dataset.splits, { train: 5, val: 2, test: 1, none: 0 })

  await assertRefused(['split', '--project', project, '--dataset', 'Oaks', '--ratio', '80/20/0'], await apiRefusal('datasets.findByName', () => ({ name: 'Oaks' })))
})

test('trimap for a dataset and for plain folders; --kernel 0 is refused before anything is saved', async () => {
  await assertRefused(['trimap', '--project', project, '--dataset', 'leaves', '--kernel', '0'], '--kernel must be at least 1')

  const made = leafsegJson<{ made: number; settings: { kernelSize: number } }>('trimap', '--project', project, '--dataset', 'leaves', '--kernel', '3', '--fg-iter', '2', '--bg-iter', '2')
  assert.equal(made.made, 8)
  const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
  assert.deepEqual(db.prepare('SELECT trimap_kernel AS k, trimap_fg_iterations AS f FROM datasets').get(), { k: 3, f: 2 })
  db.close()

  const out = join(work, 'trimaps')
  const folder = leafsegJson<{ made: number; problems: unknown[] }>('trimap', '--masks', masks, '--out', out, '--kernel', '3', '--fg-iter', '1', '--bg-iter', '1')
  assert.equal(folder.made, 8)
  assert.equal(readdirSync(out).length, 8)
  const refused = leafseg('trimap', '--masks', masks, '--out', join(work, 'never'), '--bg-iter=-1')
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /^leafseg trimap: --bg-iter must be at least 0$/m)
  assert.equal(existsSync(join(work, 'never')), false)
})

test('matte a dataset (with cutouts) and plain folders', () => {
  const cutouts = join(work, 'cutouts')
  const made = leafsegJson<{ made: number; cutouts: { written: number } }>('matte', '--project', project, '--dataset', 'leaves', '--cutouts', cutouts)
  assert.equal(made.made, 8)
  assert.equal(made.cutouts.written, 8)
  assert.equal(readdirSync(cutouts).length, 8)

  // The folder mode pairs photos with trimaps by name (the trimaps folder holds IMG_seg.png: stem + a suffix).
  const trimaps = join(work, 'folder-trimaps')
  mkdirSync(trimaps)
  for (const name of readdirSync(join(work, 'trimaps')).slice(0, 2)) renameSync(join(work, 'trimaps', name), join(trimaps, name.replace('_seg', '_trimap')))
  const alphas = join(work, 'alphas')
  const folder = leafsegJson<{ made: number; unmatchedPhotos: string[] }>('matte', '--images', photos, '--trimaps', trimaps, '--out', alphas)
  assert.equal(folder.made, 2)
  assert.equal(folder.unmatchedPhotos.length, 6)
  assert.equal(readdirSync(alphas).length, 2)
})

test('train, eval and predict (with a run and with a model folder); bad settings are refused', async () => {
  const tiny = ['--input-size', '32', '--filters', '4', '--depth', '2', '--batch', '4', '--seed', '2']
  const base = ['train', '--project', project, '--dataset', 'leaves', ...tiny]
  /** What the API says to training.start with the tiny network and these changes. */
  async function apiMessageFor(changes: object): Promise<string> {
    const s = new LeafsegService({ host: 'cli', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
    try {
      await s.api['projects.open']({ dir: project })
      const dataset = await s.api['datasets.findByName']({ name: 'leaves' })
      const { defaults } = await s.api['training.presets']({})
      const config = { ...defaults, preset: 'custom' as const, inputSize: 32, baseFilters: 4, depth: 2, batchSize: 4, seed: 2, ...changes }
      const answer = await dispatch(s, 'training.start', { datasetId: dataset.id, config })
      assert.equal(answer.ok, false)
      return (answer as { error: { message: string } }).error.message
    } finally {
      s.dispose()
    }
  }
  assert.match(await apiMessageFor({ learningRate: -1 }), /config\.learningRate: must be above 0/)
  await assertRefused([...base, '--lr=-1'], '--lr must be above 0')
  await assertRefused([...base, '--epochs', '0'], '--epochs must be at least 1')
  await assertRefused(['train', '--project', project, '--dataset', 'nope', ...tiny], await apiRefusal('datasets.findByName', () => ({ name: 'nope' })))

  const trained = leafsegJson<{ run: { id: number; status: string; epochsDone: number } }>(...base, '--epochs', '1', '--name', 'tiny')
  assert.deepEqual([trained.run.status, trained.run.epochsDone], ['completed', 1])

  const evaluated = leafsegJson<{ run: number; photos: number; pooled: { iou: number } }>('eval', '--project', project, '--run', 'tiny')
  assert.equal(evaluated.run, trained.run.id)
  assert.equal(evaluated.photos, 2)
  assert.ok(evaluated.pooled.iou >= 0 && evaluated.pooled.iou <= 1)
  const noRun = leafseg('eval', '--project', project, '--run', 'missing')
  assert.equal(noRun.code, 2)
  assert.match(noRun.stderr, /The project has no run “missing”/)

  const out = join(work, 'predicted')
  const csv = join(work, 'areas.csv')
  const byRun = leafsegJson<{ masks: number; measurements: { photo: string; runId: string }[] }>(
    'predict', '--project', project, '--run', String(trained.run.id), '--images', photos, '--out', out, '--csv', csv
  )
  assert.equal(byRun.masks, 8)
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.png')).length, 8)
  assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 9)
  assert.equal(byRun.measurements[0].runId, String(trained.run.id))

  const model = join(project, 'runs', String(trained.run.id), 'best')
  const out2 = join(work, 'predicted-by-model')
  const byModel = leafsegJson<{ masks: number; csv: string | null; measurements: { runId: string }[] }>('predict', '--model', model, '--images', photos, '--out', out2, '--threshold', '0.5')
  assert.equal(byModel.masks, 8)
  assert.equal(byModel.csv, null)
  assert.equal(byModel.measurements[0].runId, model)
  assert.deepEqual(readdirSync(out2).sort(), readdirSync(out).filter((f) => f.endsWith('.png') && !f.includes('.cutout')).sort())
  const badThreshold = leafseg('predict', '--model', model, '--images', photos, '--out', out2, '--threshold', '2')
  assert.equal(badThreshold.code, 2)
  assert.match(badThreshold.stderr, /^leafseg predict: --threshold must be at most 1$/m)
})

test('every command checks every argument before any work: exit 2, the flag named, nothing in the project or the folders changed', async () => {
  const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
  const batch = String((db.prepare('SELECT MAX(id) AS id FROM prediction_batches').get() as { id: number }).id)
  db.close()
  const never = join(work, 'never')
  const p = ['--project', project]
  const refusals: [string[], string][] = [
    [['project', 'create', join(work, 'never-project'), '--name', '  '], '--name must not be empty'],
    [['import', photos, ...p, '--dataset', '  '], '--dataset must not be empty'],
    [['import', photos, ...p, '--dataset', 'Oaks', '--masks', masks, '--threshold', '300'], '--threshold must be at most 255'],
    [['split', ...p, '--dataset', 'leaves', '--ratio', '70/20/20'], '--ratio must add up to 100 (70/20/20 adds up to 110)'],
    [['trimap', ...p, '--dataset', 'leaves', '--fg-iter=-1'], '--fg-iter must be at least 0'],
    [['trimap', '--masks', masks, '--out', never, '--kernel', '200'], '--kernel must be at most 101'],
    [['matte', ...p, '--dataset', 'leaves', '--cutouts='], '--cutouts must not be empty'],
    [['train', ...p, '--dataset', 'leaves', '--batch', '0'], '--batch must be at least 1'],
    [['train', ...p, '--dataset', 'leaves', '--workers', '0'], '--workers must be at least 1'],
    [['train', ...p, '--dataset', 'leaves', '--patience=-1'], '--patience must be at least 0'],
    [['train', ...p, '--resume', '1', '--epochs', '0'], '--epochs must be at least 1'],
    [['eval', ...p, '--run', 'tiny', '--threshold', '1.5'], '--threshold must be at most 1'],
    [['eval', ...p, '--run', 'tiny', '--split', 'training'], '--split must be val or test'],
    [['eval', ...p, '--run', 'tiny', '--checkpoint', 'worst'], '--checkpoint must be best or last'],
    [['predict', ...p, '--run', 'tiny', '--images', photos, '--out', never, '--threshold=-0.5'], '--threshold must be at least 0'],
    [['predict', ...p, '--run', 'tiny', '--images', photos, '--out', never, '--min-leaf-area', '0'], '--min-leaf-area must be at least 1'],
    [['predict', ...p, '--run', 'tiny', '--images', photos, '--out', never, '--scale', '0'], '--scale must be above 0'],
    [['predict', ...p, '--run', 'tiny', '--images', photos, '--out', never, '--csv='], '--csv must not be empty'],
    [['predict', 'resume', ...p, '--batch', batch, '--csv='], '--csv must not be empty'],
    [['export', ...p, '--run', 'tiny', '--onnx='], '--onnx is required'],
    [['export', ...p, '--dataset', 'leaves', '--masks', never, '--format', 'tiff'], '--format must be png or coco']
  ]
  for (const [args, message] of refusals) await assertRefused(args, message)
  assert.equal(existsSync(never), false, 'no output folder was made')
  assert.equal(existsSync(join(work, 'never-project')), false, 'no project folder was made')
})

test('serve: the page answers with the token, not without; Ctrl-C stops it', { skip: rendererBuilt ? false : 'the renderer is not built (npx electron-vite build)' }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--project', project, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) resolve((JSON.parse(line) as { url: string }).url)
      })
      child.once('exit', (code) => reject(new Error(`serve exited (${code})`)))
    })
    const page = await fetch(url)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<html/i)
    const withoutToken = await fetch(new URL('/', url))
    assert.equal(withoutToken.status, 401)
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    assert.equal(await exited, 0)
  }
})
