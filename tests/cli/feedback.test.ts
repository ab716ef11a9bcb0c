// No silent failures from the command line (issue 15): items that fail make the exit code 1 and are listed,
// usage errors exit 2; piped output carries no escape codes and shows plain progress lines; trimaps fit
// seedlings' small leaves by default. Every command runs as a real child process, its stdout and stderr pipes.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { leafseg } from '../helpers/cli'
import { tempDir } from '../helpers/temp'
import { makePhotos } from '../training/fixtures'

const ESC = '\x1b'
let work: string
let seedlingMasks: string
let seedlingPhotos: string

/** No escape code anywhere in what the command wrote (both pipes). */
function assertPlain(r: { stdout: string; stderr: string }, what: string) {
  assert.ok(!r.stdout.includes(ESC), `${what}: stdout carries an escape code: ${JSON.stringify(r.stdout.slice(0, 300))}`)
  assert.ok(!r.stderr.includes(ESC), `${what}: stderr carries an escape code: ${JSON.stringify(r.stderr.slice(0, 300))}`)
}

// Seedlings as komatsuna's: 170 px photos, leaves 2 to 16 px thick; the seed's 5×5 kernel with 5 erosions
// (10 px) erases the thinner ones entirely.
const seedlings: { name: string; leaves: [number, number, number, number][] }[] = [
  {
    name: 'plant_a',
    leaves: [
      [60, 70, 30, 5],
      [110, 90, 20, 4]
    ]
  },
  { name: 'plant_b', leaves: [[85, 85, 9, 8]] },
  {
    name: 'plant_c',
    leaves: [
      [50, 50, 40, 3],
      [120, 120, 6, 2]
    ]
  },
  { name: 'plant_d', leaves: [[85, 85, 45, 30]] } // thick enough for the seed's values too
]

async function writeSeedlings(dir: string, photosDir: string) {
  mkdirSync(dir, { recursive: true })
  mkdirSync(photosDir, { recursive: true })
  const size = 170
  for (const { name, leaves } of seedlings) {
    const mask = Buffer.alloc(size * size)
    const rgb = Buffer.alloc(size * size * 3, 90)
    for (const [cx, cy, rx, ry] of leaves)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) {
            mask[y * size + x] = 255
            rgb[(y * size + x) * 3 + 1] = 200
          }
    await sharp(mask, { raw: { width: size, height: size, channels: 1 } })
      .png()
      .toFile(join(dir, `${name}.png`))
    await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(join(photosDir, `${name}.png`))
  }
}

before(async () => {
  work = tempDir()
  seedlingMasks = join(work, 'masks')
  seedlingPhotos = join(work, 'photos')
  await writeSeedlings(seedlingMasks, seedlingPhotos)
})

test('--help states the exit codes; usage errors exit 2, with the help', () => {
  const help = leafseg('--help')
  assert.equal(help.code, 0)
  assert.match(help.stdout, /Exit codes:\n\s+0\s+all done\n\s+1\s+some items failed.*\n\s+2\s+usage error/)
  const unknown = leafseg('nonsense')
  assert.equal(unknown.code, 2)
  const both = leafseg('trimap', '--masks', seedlingMasks, '--out', join(work, 'never'), '--auto', '--kernel', '3')
  assert.equal(both.code, 2)
  assert.match(both.stderr, /--auto fits the trimap to the leaves: give it without --fixed, --kernel/)
})

test("trimaps on plain folders: the default fits seedlings' leaves (exit 0); the seed's fixed values fail on thin leaves (exit 1, each listed)", () => {
  const fitted = leafseg('trimap', '--masks', seedlingMasks, '--out', join(work, 'auto'))
  assert.equal(fitted.code, 0, fitted.stderr)
  assert.match(fitted.stdout, /Made 4 trimaps\./)
  assert.equal(readdirSync(join(work, 'auto')).length, 4)
  assertPlain(fitted, 'trimap (auto)')

  const fixed = leafseg('trimap', '--masks', seedlingMasks, '--out', join(work, 'fixed'), '--fixed')
  assert.equal(fixed.code, 1, fixed.stderr)
  assert.match(fixed.stdout, /Made 1 trimaps\./)
  for (const name of ['plant_a', 'plant_b', 'plant_c'])
    assert.match(fixed.stdout, new RegExp(`${name}\\.png: .*the leaf erosions remove every leaf pixel \\(5×5 kernel, 5 erosions\\)`))
  assert.match(fixed.stderr, /leafseg trimap: 3 items failed \(listed above\); exit code 1\./)
  assertPlain(fixed, 'trimap (fixed)')

  const json = leafseg('trimap', '--masks', seedlingMasks, '--out', join(work, 'fixed-json'), '--kernel', '5', '--json')
  assert.equal(json.code, 1)
  const summary = JSON.parse(json.stdout) as {
    made: number
    problems: { photo: string }[]
    settings: { mode: string; kernelSize: number; fgIterations: number }
  }
  assert.deepEqual([summary.made, summary.problems.length, summary.settings.mode, summary.settings.fgIterations], [1, 3, 'fixed', 5])
})

test('trimaps for a dataset: a job with failed photos exits 1 and lists them; the choice is remembered; --auto fixes it', () => {
  const project = join(work, 'project')
  assert.equal(leafseg('project', 'create', project, '--name', 'Seedlings').code, 0)
  const imported = leafseg('import', seedlingPhotos, '--masks', seedlingMasks, '--project', project, '--dataset', 'seedlings')
  assert.equal(imported.code, 0, imported.stderr)

  const fixed = leafseg('trimap', '--project', project, '--dataset', 'seedlings', '--fixed')
  assert.equal(fixed.code, 1, fixed.stderr)
  assert.match(fixed.stdout, /Made 1 trimaps\.\n(  plant_[abc]\.png: .*no definite leaf.*\n){3}/)
  assert.match(fixed.stderr, /3 items failed/)
  assertPlain(fixed, 'trimap --project --fixed')
  // Without a terminal, progress is a plain line on stderr (at the start and at the end at least).
  assert.match(fixed.stderr, /^progress: 4\/4 \(100%\) plant_d\.png$/m)

  // The dataset remembers fixed values: the next plain run uses them, and fails the same way.
  assert.equal(leafseg('trimap', '--project', project, '--dataset', 'seedlings').code, 1)
  const auto = leafseg('trimap', '--project', project, '--dataset', 'seedlings', '--auto', '--json')
  assert.equal(auto.code, 0, auto.stderr)
  const summary = JSON.parse(auto.stdout) as { made: number; problems: unknown[]; settings: { mode: string } }
  assert.deepEqual([summary.made, summary.problems.length, summary.settings.mode], [4, 0, 'auto'])
})

test('split --ratio 80/20 means no test photos; predict --help names --checkpoint, and a bad one exits 2; serve --help says the default port', async () => {
  const project = join(work, 'ratio')
  const photos = join(work, 'ratio-photos')
  await makePhotos(photos, 10, { width: 32, height: 24, seed: 5 })
  assert.equal(leafseg('project', 'create', project, '--name', 'Ratio').code, 0)
  assert.equal(leafseg('import', photos, '--project', project, '--dataset', 'd').code, 0)
  const split = leafseg('split', '--project', project, '--dataset', 'd', '--ratio', '80/20', '--seed', '1', '--json')
  assert.equal(split.code, 0, split.stderr)
  const splits = (JSON.parse(split.stdout) as { dataset: { splits: Record<string, number> } }).dataset.splits
  // makePhotos writes each photo's mask beside it: 20 images, all imported as photos here.
  assert.deepEqual([splits.train, splits.val, splits.test], [16, 4, 0])
  const bad = leafseg('split', '--project', project, '--dataset', 'd', '--ratio', '80/')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--ratio must look like 80\/20 or 70\/15\/15, not “80\/”/)

  const predictHelp = leafseg('predict', '--help')
  assert.match(predictHelp.stdout, /^Usage: .*--run R \[--checkpoint best\|last\]/m)
  assert.match(predictHelp.stdout, /^\s+--checkpoint C\s+with --run: best \(by validation IoU, default\) or last$/m)
  const badCheckpoint = leafseg('predict', '--project', project, '--run', 'x', '--images', photos, '--out', join(work, 'o'), '--checkpoint', 'newest')
  assert.equal(badCheckpoint.code, 2)
  assert.match(badCheckpoint.stderr, /--checkpoint must be best or last, not “newest”/)

  const serveHelp = leafseg('serve', '--help')
  assert.match(serveHelp.stdout, /^Usage: leafseg serve \[--project DIR\] \[--port N\]$/m)
  assert.match(serveHelp.stdout, /--port N\s+the port \(default: a free one\)/)
})

test('train prints its backend first and says what its validation IoU measures; eval says what it measures; all of it plain when piped', async () => {
  const project = join(work, 'train')
  const photos = join(work, 'train-photos')
  const masks = join(work, 'train-masks')
  const samples = await makePhotos(photos, 6, { width: 40, height: 32, seed: 7 })
  mkdirSync(masks)
  for (const s of samples) await sharp(s.maskPath).toFile(join(masks, `${s.id}_mask.png`))
  assert.equal(leafseg('project', 'create', project, '--name', 'Train').code, 0)
  assert.equal(leafseg('import', photos, '--masks', masks, '--project', project, '--dataset', 'd').code, 0)
  assert.equal(leafseg('split', '--project', project, '--dataset', 'd', '--ratio', '70/30').code, 0)
  const r = leafseg(
    'train',
    '--project',
    project,
    '--dataset',
    'd',
    '--input-size',
    '32',
    '--filters',
    '4',
    '--depth',
    '2',
    '--batch',
    '4',
    '--epochs',
    '2',
    '--seed',
    '1',
    '--name',
    'tiny'
  )
  assert.equal(r.code, 0, r.stderr)
  assertPlain(r, 'train')
  const lines = r.stdout.trim().split('\n')
  assert.match(lines[0], /^Training run \d+ “tiny”/)
  assert.match(lines[1], /^Backend: \S+ — /, `the backend comes before the epochs:\n${r.stdout}`)
  assert.match(lines[2], /^epoch 1\/2 /)
  assert.match(r.stdout, /Validation scores are measured on validation photos at the network's 32×32 px, threshold 0\.5, pixels of all photos pooled/)

  const evaluated = leafseg('eval', '--project', project, '--run', 'tiny')
  assert.equal(evaluated.code, 0, evaluated.stderr)
  assertPlain(evaluated, 'eval')
  assert.match(
    evaluated.stdout,
    /Measured on full-resolution photos, threshold 0\.5; pooled: pixels of all photos together, per-photo mean: each photo weighs the same\./
  )
})
