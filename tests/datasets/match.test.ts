import { test } from 'node:test'
import assert from 'node:assert/strict'
import { detectPrefixPair, makePhotoLookup, matchMasksToPhotos, separateMasks } from '../../src/main/core/datasets/match'

const pairsOf = (r: ReturnType<typeof matchMasksToPhotos>): string[] => r.pairs.map((p) => `${p.photo} <- ${p.mask} (${p.rule})`)

test('same name, suffixes (case-insensitive, any extension), unmatched on both sides', () => {
  const photos = ['/p/IMG_1.JPG', '/p/IMG_2.jpg', '/p/IMG_3.jpg', '/p/IMG_4.jpg', '/p/sub/IMG_5.tif', '/p/alone.jpg']
  const masks = ['/m/img_1.png', '/m/IMG_2_mask.png', '/m/IMG_3-mask.png', '/m/IMG_4_fg.bmp', '/m/IMG_5_label.png', '/m/stray_mask.png']
  const r = matchMasksToPhotos(photos, masks)
  assert.deepEqual(pairsOf(r).sort(), [
    '/p/IMG_1.JPG <- /m/img_1.png (same-name)',
    '/p/IMG_2.jpg <- /m/IMG_2_mask.png (suffix)',
    '/p/IMG_3.jpg <- /m/IMG_3-mask.png (suffix)',
    '/p/IMG_4.jpg <- /m/IMG_4_fg.bmp (suffix)',
    '/p/sub/IMG_5.tif <- /m/IMG_5_label.png (suffix)'
  ])
  assert.deepEqual(
    r.unmatchedPhotos.map((u) => u.path),
    ['/p/alone.jpg']
  )
  assert.deepEqual(r.unmatchedMasks, [{ path: '/m/stray_mask.png', reason: 'no photo has a matching name' }])
  assert.equal(r.detectedPrefix, undefined)
  // Configurable suffixes replace the defaults.
  const whole = matchMasksToPhotos(['/p/IMG_9.jpeg'], ['/m/IMG_9.jpeg.png'])
  assert.deepEqual(pairsOf(whole), ['/p/IMG_9.jpeg <- /m/IMG_9.jpeg.png (same-name)'])
  const custom = matchMasksToPhotos(['/p/a.jpg', '/p/b.jpg'], ['/m/a.seg.png', '/m/b_mask.png'], { suffixes: ['.seg'] })
  assert.deepEqual(pairsOf(custom), ['/p/a.jpg <- /m/a.seg.png (suffix)'])
})

test('komatsuna naming: rgb_X <- label_X found automatically, or given as a prefix pair', () => {
  const photos = Array.from({ length: 5 }, (_, i) => `/k/rgb/rgb_00_000_0${i}.png`)
  const masks = Array.from({ length: 4 }, (_, i) => `/k/label/label_00_000_0${i}.png`)
  const auto = matchMasksToPhotos(photos, masks)
  assert.deepEqual(auto.detectedPrefix, { photo: 'rgb_', mask: 'label_' })
  assert.equal(auto.pairs.length, 4)
  assert.ok(auto.pairs.every((p) => p.rule === 'prefix' && p.photo.endsWith(p.mask.split('label_')[1])))
  assert.deepEqual(
    auto.unmatchedPhotos.map((u) => u.path),
    ['/k/rgb/rgb_00_000_04.png']
  )
  assert.equal(matchMasksToPhotos(photos, masks, { autoPrefix: false }).pairs.length, 0)
  const given = matchMasksToPhotos(['/a/photo-12.jpg', '/a/other.jpg'], ['/b/gt-12_mask.png'], {
    prefixes: [{ photo: 'photo-', mask: 'gt-' }],
    autoPrefix: false
  })
  assert.deepEqual(pairsOf(given), ['/a/photo-12.jpg <- /b/gt-12_mask.png (prefix)'])
  assert.equal(detectPrefixPair(['/x/IMG_1.jpg'], ['/y/IMG_1_mask.png']), undefined, 'one shared prefix is not a pair')
})

test('two masks for one photo, and two photos with one name, are reported rather than guessed', () => {
  const r = matchMasksToPhotos(['/p/a/x.jpg', '/p/b/x.jpg', '/p/y.jpg'], ['/m/x.png', '/m/y.png', '/m/y_mask.png'])
  assert.deepEqual(pairsOf(r), ['/p/y.jpg <- /m/y.png (same-name)'])
  assert.match(r.unmatchedMasks.find((u) => u.path === '/m/x.png')!.reason, /several photos have this name: \/p\/a\/x\.jpg, \/p\/b\/x\.jpg/)
  assert.match(r.unmatchedMasks.find((u) => u.path === '/m/y_mask.png')!.reason, /already has the mask \/m\/y\.png/)
})

test('photo lookup by export names: base name, name without extension, URL, folders', () => {
  const find = makePhotoLookup(['/p/IMG_1.jpg', '/p/plant.3.png', '/p/a/dup.jpg', '/p/b/dup.jpg'])
  assert.deepEqual(find('IMG_1.jpg'), { photo: '/p/IMG_1.jpg' })
  assert.deepEqual(find('img_1'), { photo: '/p/IMG_1.jpg' })
  assert.deepEqual(find('IMG_1.png'), { photo: '/p/IMG_1.jpg' })
  assert.deepEqual(find('https://storage.example/bucket/IMG_1.jpg?X-Goog-Signature=abc'), { photo: '/p/IMG_1.jpg' })
  assert.deepEqual(find('train/plant.3'), { photo: '/p/plant.3.png' })
  assert.deepEqual(find('dup.jpg'), { ambiguous: ['/p/a/dup.jpg', '/p/b/dup.jpg'] })
  assert.equal(find('nothing.jpg'), undefined)
})

test('photos and masks dropped in one folder are told apart by the mask suffix', () => {
  const all = ['/d/IMG_1.jpg', '/d/IMG_1_mask.png', '/d/IMG_2.jpg', '/d/IMG_2-mask.png', '/d/lonely_mask.jpg', '/d/IMG_3.jpg']
  const { photos, masks } = separateMasks(all)
  assert.deepEqual(photos, ['/d/IMG_1.jpg', '/d/IMG_2.jpg', '/d/lonely_mask.jpg', '/d/IMG_3.jpg'])
  assert.deepEqual(masks, ['/d/IMG_1_mask.png', '/d/IMG_2-mask.png'])
  assert.equal(matchMasksToPhotos(photos, masks).pairs.length, 2)
})
