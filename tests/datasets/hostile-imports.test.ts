// Fuzzing the importers with hostile files (see hostile-child.ts): every import runs through the real job path
// in a child process, which must exit normally, stay within bounded memory, and answer each file with a
// message that names it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

interface Outcome {
  name: string
  file: string
  status: string
  error: string | null
  result: { masks?: number; imported?: number; problems?: { path: string; reason: string }[]; unmatchedMasks?: { path: string; reason: string }[] } | null
}

// What each hostile file must come to: refused outright, imported (the part inside the image), or a listed problem.
const expected: Record<string, { status: 'failed' | 'succeeded' | 'done-with-problems'; says?: RegExp; masks?: number; imported?: number }> = {
  'coco-huge-coordinates': { status: 'succeeded', masks: 1 },
  'coco-too-many-points': { status: 'failed', says: /a polygon of 1000002 coordinates; at most 1000000/ },
  'coco-boundary-too-long': { status: 'done-with-problems', masks: 0, says: /boundary too long to draw/ },
  'coco-deep-nesting': { status: 'failed', says: /polygons are not lists of numbers/ },
  'coco-enormous-list': { status: 'failed', says: /has 1000001 annotations; Leafseg reads at most 1000000/ },
  'coco-wrong-types': { status: 'failed', says: /unusable image entry #1/ },
  'coco-segmentation-string': { status: 'failed', says: /without a segmentation/ },
  'coco-rle-sum': { status: 'failed', says: /runs cover 1000000000000005 pixels, not the image's 40×30 = 1200/ },
  'coco-rle-garbage': { status: 'failed', says: /broken RLE/ },
  'coco-rle-counts-object': { status: 'failed', says: /counts are neither/ },
  'coco-huge-image': { status: 'failed', says: /too large: it declares 1000000×1000000/ },
  'coco-not-json': { status: 'failed', says: /is not valid JSON/ },
  'coco-too-large': { status: 'failed', says: /is 315 MB; Leafseg reads annotation files of up to 250 MB/ },
  'labelbox-huge-coordinates': { status: 'succeeded', masks: 1 },
  'labelbox-huge-media': { status: 'failed', says: /line 1: "media_attributes" gives an image size that cannot be right/ },
  'labelbox-deep-nesting': { status: 'failed', says: /line 1: "projects" is not an object/ },
  'labelbox-wrong-types': { status: 'failed', says: /line 1: a polygon is not a list/ },
  'labelbox-objects-string': { status: 'failed', says: /"annotations.objects" is not a list/ },
  'labelbox-too-many-lines': { status: 'failed', says: /has 1000003 lines/ },
  'labelbox-bomb-mask': { status: 'done-with-problems', masks: 0, says: /is 16000×16000 pixels but its image is 40×30/ },
  'labelbox-legacy-not-a-list': { status: 'failed', says: /has no "data_row"/ },
  'labelbox-legacy-huge-coordinates': { status: 'succeeded', masks: 1 },
  'labelbox-legacy-deep-nesting': { status: 'failed', says: /row 1: is not an object/ },
  'mask-folder-bombs': {
    status: 'done-with-problems',
    masks: 0,
    says: /a_mask.png is 16000×16000 pixels but its photo a.png is 40×30[^]*b_mask.png cannot be used: it is too large: it declares 20000×20000/
  },
  'photo-bombs': {
    status: 'done-with-problems',
    imported: 1,
    says: /too-large.png is too large an image for Leafseg \(it declares 20000×20000 = 400,000,000 pixels, more than the 268,402,689/
  }
}

test('hostile COCO, Labelbox and mask files: no crash, bounded memory, a message naming the file', () => {
  const child = fileURLToPath(new URL('./hostile-child.ts', import.meta.url))
  // The child's timeout bounds the work: a file that made the import run away fails the test with no status.
  const run = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 })
  assert.equal(run.status, 0, `the import process ended badly (${run.signal ?? run.status}): ${run.stderr.slice(-2000)}`)
  const { results, maxRssMb } = JSON.parse(run.stdout) as { results: Outcome[]; maxRssMb: number }
  assert.ok(maxRssMb < 1500, `peak memory ${Math.round(maxRssMb)} MB`)
  assert.deepEqual(results.map((r) => r.name).sort(), Object.keys(expected).sort())
  for (const r of results) {
    const want = expected[r.name]
    assert.equal(r.status, want.status, `${r.name}: ${r.error}`)
    const said = [r.error ?? '', ...(r.result?.problems ?? []).map((p) => `${p.path}: ${p.reason}`)].join('\n')
    if (want.says) {
      assert.match(said, want.says, r.name)
      assert.ok(said.includes(basename(r.file)), `${r.name}: the message names the file: ${said}`)
    }
    if (want.masks !== undefined) assert.equal(r.result?.masks, want.masks, r.name)
    if (want.imported !== undefined) assert.equal(r.result?.imported, want.imported, r.name)
  }
})
