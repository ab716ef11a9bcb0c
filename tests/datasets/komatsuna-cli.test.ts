// Opt-in (runs when ../shared/data/komatsuna exists): the CLI imports the 300 komatsuna photos with their
// colour label images as 300 binary masks, each keeping its leaves (one per colour).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { tempDir } from '../helpers/temp'
import { readInstanceFile } from '../../src/main/core/datasets/instances'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const data = resolve(root, '..', 'shared', 'data', 'komatsuna')
const skip = existsSync(join(data, 'rgb')) ? false : `no komatsuna data at ${data}`

/** Distinct non-black colours of a label image: its leaves. */
async function colours(path: string): Promise<number> {
  const { data } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  const seen = new Set<number>()
  for (let i = 0; i < data.length; i += 3) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
    if (key) seen.add(key)
  }
  return seen.size
}

test('leafseg import of komatsuna: 300 photos, 300 binary masks, each with as many leaves as its label has colours', { skip, timeout: 300_000 }, async () => {
  const project = join(tempDir(), 'komatsuna')
  const env = { ...process.env, LEAFSEG_USER_DATA: tempDir() }
  const cli = join(root, 'bin', 'leafseg.js')
  execFileSync(process.execPath, [cli, 'project', 'create', project, '--name', 'Komatsuna'], { env })
  const out = execFileSync(
    process.execPath,
    [cli, 'import', join(data, 'rgb'), '--masks', join(data, 'label'), '--project', project, '--dataset', 'komatsuna', '--json'],
    { env, encoding: 'utf8' }
  )
  const summary = JSON.parse(out.trim().split('\n').pop()!)
  assert.equal(summary.dataset.photos, 300)
  assert.equal(summary.dataset.labelled, 300)
  assert.equal(summary.masks.problems.length, 0)
  assert.equal(summary.photos.problems.length, 0)

  const db = new Database(join(project, 'leafseg.sqlite'), { readonly: true })
  const rows = db.prepare('SELECT p.name, m.file, m.instances_file, m.leaves FROM photos p JOIN masks m ON m.photo_id = p.id').all() as {
    name: string
    file: string
    instances_file: string | null
    leaves: number | null
  }[]
  db.close()
  assert.equal(rows.length, 300)
  let total = 0
  for (const r of rows) {
    const label = join(data, 'label', r.name.replace(/^rgb_/, 'label_'))
    const expected = await colours(label)
    assert.equal(r.leaves, expected, `${r.name}: leaves recorded vs colours in ${label}`)
    assert.ok(r.instances_file, r.name)
    const inst = await readInstanceFile(join(project, r.instances_file!))
    assert.equal(inst.count, expected, `${r.name}: leaves in the stored instances`)
    assert.equal(new Set(inst.ids).size - (inst.ids.includes(0) ? 1 : 0), expected, `${r.name}: ids 1..count without gaps`)
    total += expected
  }
  assert.ok(total / 300 > 3, `a komatsuna plant has several leaves (mean ${total / 300})`)

  // leafseg export: COCO with one object per leaf; PNG with the leaf ids beside each mask.
  const exportDir = tempDir()
  const coco = JSON.parse(
    execFileSync(process.execPath, [cli, 'export', '--project', project, '--dataset', 'komatsuna', '--masks', exportDir, '--format', 'coco', '--json'], {
      env,
      encoding: 'utf8'
    })
      .trim()
      .split('\n')
      .pop()!
  )
  assert.equal(coco.written, 300)
  const exported = JSON.parse(readFileSync(coco.path, 'utf8'))
  assert.equal(exported.annotations.length, total, 'one COCO object per leaf')
  execFileSync(process.execPath, [cli, 'export', '--project', project, '--dataset', 'komatsuna', '--masks', exportDir], { env })
  assert.equal(readdirSync(exportDir).filter((f) => f.endsWith('.instances.png')).length, 300)
})
