// `leafseg classify` as a person runs it: strokes from a file or sampled from masks, a classifier trained, the
// dataset labelled for review. A refused argument exits 2 naming the flag, and the project is left as it was.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { leafseg, leafsegJson } from '../helpers/cli'
import { leafPhoto, writeLeafPhoto } from '../helpers/leaf-photo'
import { tempDir } from '../helpers/temp'

let project: string
let src: string

/** The project's database and files, to compare before and after a refused command. */
function snapshot(dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('leafseg.sqlite'))
    .map((e) => join(e.parentPath, e.name).slice(dir.length))
    .sort()
  return JSON.stringify([files, readFileSync(join(dir, 'leafseg.sqlite')).length])
}

before(async () => {
  const work = tempDir()
  src = join(work, 'photos')
  const masks = join(work, 'masks')
  mkdirSync(src)
  mkdirSync(masks)
  for (let k = 0; k < 5; k++) {
    const leaf = leafPhoto(100, 80, { seed: 5 + k })
    await writeLeafPhoto(join(src, `leaf-${k}.png`), leaf)
    // two photos keep their masks
    if (k < 2)
      await sharp(Buffer.from(leaf.truth), { raw: { width: 100, height: 80, channels: 1 } })
        .png()
        .toFile(join(masks, `leaf-${k}.png`))
  }
  project = join(work, 'project')
  assert.equal(leafseg('project', 'create', project, '--name', 'Classify').code, 0)
  const imported = leafseg('import', src, '--project', project, '--dataset', 'leaves', '--masks', masks)
  assert.equal(imported.code, 0, imported.stderr)
})

test('refused arguments exit 2, name the flag and change nothing', async () => {
  const before = snapshot(project)
  const cases: [string[], RegExp][] = [
    [['--from-masks', '0'], /--from-masks must be a whole number of photos from 1/],
    [['--from-masks', '9'], /--from-masks must be at most 2/],
    [['--strokes', join(src, 'missing.png')], /--strokes must be an image file of 0\/1\/2/],
    [['--strokes', join(src, 'leaf-3.png')], /leaf-3\.png has the value|strokes are 0 \(none\)/],
    [['--strokes', join(src, 'leaf-3.png'), '--photo', 'nope.png'], /--photo must name a photo of “leaves”/],
    [[], /Give --strokes FILE or --from-masks N/]
  ]
  for (const [args, message] of cases) {
    const r = leafseg('classify', '--project', project, '--dataset', 'leaves', ...args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(snapshot(project), before, `${args.join(' ')} changed nothing`)
  }
  assert.equal(leafseg('classify', '--project', project, '--dataset', 'nope', '--from-masks', '1').code, 2)
})

test('--from-masks trains from sampled pixels and labels the photos without a mask for review', () => {
  const out = leafsegJson<{ labelled: number; kept: number; classifier: { photos: number; leafPixels: number } }>(
    'classify',
    '--project',
    project,
    '--dataset',
    'leaves',
    '--from-masks',
    '2',
    '--json'
  )
  assert.equal(out.labelled, 3)
  assert.equal(out.classifier.photos, 2)
  assert.equal(out.classifier.leafPixels > 300, true)
})

test('--strokes reads an image of 0/1/2 for one photo', async () => {
  const strokes = Buffer.alloc(100 * 80)
  for (let x = 40; x < 60; x++) strokes[40 * 100 + x] = 1
  for (let x = 0; x < 100; x++) strokes[x] = 2
  const file = join(tempDir(), 'leaf-4.png')
  await sharp(strokes, { raw: { width: 100, height: 80, channels: 1 } })
    .png()
    .toFile(file)
  const out = leafsegJson<{ strokedPhotos: string[]; labelled: number }>('classify', '--project', project, '--dataset', 'leaves', '--strokes', file, '--json')
  assert.deepEqual(out.strokedPhotos, ['leaf-4.png'])
  assert.equal(out.labelled, 3)
})
