// Real data: the komatsuna set (300 photos rgb/rgb_*.png, 300 colour labels label/label_*.png), read in place.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { resolve, join } from 'node:path'
import { inspectPhotos, scanPhotos } from '../../src/main/core/datasets/photos'
import { matchMasksToPhotos } from '../../src/main/core/datasets/match'
import { normaliseMask } from '../../src/main/core/datasets/masks'

const repoRoot = resolve(import.meta.dirname, '..', '..')
const komatsuna = resolve(repoRoot, '..', 'shared', 'data', 'komatsuna')
const present = existsSync(join(komatsuna, 'rgb')) && existsSync(join(komatsuna, 'label'))

test(
  'komatsuna: all 300 labels match their photos by prefix and become binary masks (~10 % leaf)',
  { skip: !present && `no data at ${komatsuna}` },
  async () => {
    const photos = (await scanPhotos([join(komatsuna, 'rgb')])).files
    const labels = (await scanPhotos([join(komatsuna, 'label')])).files
    assert.equal(photos.length, 300)
    assert.equal(labels.length, 300)
    const match = matchMasksToPhotos(
      photos.map((f) => f.path),
      labels.map((f) => f.path)
    )
    assert.deepEqual(match.detectedPrefix, { photo: 'rgb_', mask: 'label_' })
    assert.equal(match.pairs.length, 300)
    assert.deepEqual([match.unmatchedPhotos.length, match.unmatchedMasks.length], [0, 0])

    const sizes = new Map<string, { width: number; height: number }>()
    for (const r of await inspectPhotos(photos)) {
      assert.ok(r.ok, !r.ok ? r.problem.message : '')
      sizes.set(r.photo.path, r.photo)
    }
    let fraction = 0
    for (const { photo, mask } of match.pairs) {
      const m = await normaliseMask(mask, { expected: { ...sizes.get(photo)!, photo } })
      assert.equal(m.kind, 'instance-colours', mask)
      assert.ok(m.binary.data.every((v) => v === 0 || v === 255))
      assert.ok(m.instances!.count >= 1)
      fraction += m.foreground
    }
    const mean = fraction / 300
    assert.ok(mean > 0.05 && mean < 0.2, `mean leaf share ${mean}`)
  }
)
