import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { findDuplicates, inspectPhoto, inspectPhotos, scanPhotos, type InspectResult } from '../../src/main/core/datasets/photos'
import { jpeg, makeBmp, png, tempDir } from './helpers'

async function photoFolder(): Promise<{ dir: string; loose: string }> {
  const dir = tempDir('photos')
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true })
  const photo = await jpeg(64, 48)
  writeFileSync(join(dir, 'a.jpg'), photo)
  writeFileSync(join(dir, 'IMG_0001'), photo) // no extension: found by content
  writeFileSync(join(dir, 'nested', 'b.png'), await png(3, 2, 3, new Array(18).fill(90)))
  writeFileSync(join(dir, 'nested', 'deeper', 'c.TIF'), await sharp(photo).tiff().toBuffer())
  writeFileSync(join(dir, 'nested', 'd.webp'), await sharp(photo).webp().toBuffer())
  writeFileSync(join(dir, 'e.bmp'), makeBmp({ width: 5, height: 4, bpp: 24, pixel: (x, y) => [x * 50, y * 60, 9, 255] }))
  writeFileSync(join(dir, 'notes.txt'), 'plant 3 looks ill')
  writeFileSync(join(dir, 'empty.dat'), '')
  writeFileSync(join(dir, 'fake.jpg'), 'this is a text file, not a photo')
  writeFileSync(join(dir, 'empty.png'), '')
  writeFileSync(join(dir, 'cut.jpg'), photo.subarray(0, Math.floor(photo.length / 2)))
  writeFileSync(join(dir, '._a.jpg'), 'macOS resource fork')
  const looseDir = tempDir('loose')
  const loose = join(looseDir, 'loose.jpeg')
  writeFileSync(loose, await jpeg(20, 10, 6))
  return { dir, loose }
}

test('scan finds images by content in folders and loose files, and reports files named like images that are not', async () => {
  const { dir, loose } = await photoFolder()
  const progress: number[] = []
  const { files, ignored } = await scanPhotos([dir, loose, dir], { onProgress: (done) => progress.push(done) })
  const rel = (p: string): string => (p.startsWith(dir) ? p.slice(dir.length + 1) : 'LOOSE')
  const key = (t: unknown[]): string => JSON.stringify(t)
  assert.deepEqual(
    files.map((f) => key([rel(f.path), f.format, f.problem?.kind ?? null])).sort(),
    [
      ['IMG_0001', 'jpeg', null],
      ['a.jpg', 'jpeg', null],
      ['cut.jpg', 'jpeg', null], // the scan reads headers only; inspectPhoto finds the truncation
      ['e.bmp', 'bmp', null],
      ['empty.png', null, 'zero-bytes'],
      ['fake.jpg', null, 'not-an-image'],
      ['nested/b.png', 'png', null],
      ['nested/d.webp', 'webp', null],
      ['nested/deeper/c.TIF', 'tiff', null],
      ['LOOSE', 'jpeg', null]
    ]
      .map(key)
      .sort()
  )
  assert.equal(files.length, 10)
  assert.equal(ignored, 2, 'notes.txt and empty.dat are skipped silently')
  assert.ok(progress.length > 0)
  assert.match(files.find((f) => f.path.endsWith('fake.jpg'))!.problem!.message, /fake\.jpg is not an image/)
  await assert.rejects(scanPhotos([join(dir, 'missing')]), /missing: it does not exist/)
})

test('inspect: hash, size, size after EXIF rotation, bit depth, thumbnail; bad files get a reason naming them', async () => {
  const { dir, loose } = await photoFolder()
  const thumbs = tempDir('thumbs')
  const { files } = await scanPhotos([dir, loose])
  writeFileSync(
    join(dir, 'deep16.png'),
    await sharp({ create: { width: 30, height: 20, channels: 3, background: '#407030' } })
      .toColourspace('rgb16')
      .png()
      .toBuffer()
  )
  writeFileSync(join(dir, 'big.jpg'), await jpeg(600, 400))
  const all = [...files, join(dir, 'deep16.png'), join(dir, 'big.jpg')]
  const seen: number[] = []
  const results = await inspectPhotos(all, {
    concurrency: 3,
    thumbnail: { path: (hash) => join(thumbs, `${hash}.webp`) },
    onResult: (_, i) => {
      seen.push(i)
    }
  })
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    all.map((_, i) => i)
  )
  const byName = new Map<string, InspectResult>(results.map((r) => [(r.ok ? r.photo.path : r.path).split('/').pop()!, r]))
  const ok = (name: string) => {
    const r = byName.get(name)!
    assert.ok(r.ok, `${name}: ${!r.ok && r.problem.message}`)
    return r.photo
  }
  const bad = (name: string) => {
    const r = byName.get(name)!
    assert.ok(!r.ok, `${name} should be refused`)
    assert.ok(r.problem.message.includes(name), r.problem.message)
    return r.problem.kind
  }
  assert.deepEqual([ok('loose.jpeg').width, ok('loose.jpeg').height, ok('loose.jpeg').orientation], [10, 20, 6])
  assert.deepEqual([ok('a.jpg').width, ok('a.jpg').height, ok('a.jpg').bitDepth, ok('a.jpg').format], [64, 48, 8, 'jpeg'])
  assert.equal(ok('a.jpg').hash, ok('IMG_0001').hash)
  assert.match(ok('a.jpg').hash, /^[0-9a-f]{64}$/)
  assert.equal(ok('deep16.png').bitDepth, 16)
  assert.deepEqual([ok('e.bmp').width, ok('e.bmp').height, ok('e.bmp').format], [5, 4, 'bmp'])
  assert.equal(ok('c.TIF').format, 'tiff')
  assert.equal(bad('cut.jpg'), 'truncated')
  assert.equal(bad('fake.jpg'), 'not-an-image')
  assert.equal(bad('empty.png'), 'zero-bytes')

  const big = ok('big.jpg')
  const meta = await sharp(big.thumbnail!).metadata()
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 256, 171])
  const rotated = await sharp(ok('loose.jpeg').thumbnail!).metadata()
  assert.deepEqual([rotated.width, rotated.height], [10, 20], 'thumbnails are upright and not enlarged')
  assert.ok(
    readdirSync(thumbs).every((f) => f.endsWith('.webp') && !f.startsWith('.')),
    'no temp files left'
  )

  const tiff = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#446622' } })
    .tiff({ compression: 'lzw' })
    .toBuffer()
  writeFileSync(join(dir, 'half.tif'), tiff.subarray(0, Math.floor(tiff.length * 0.6)))
  const half = await inspectPhoto(join(dir, 'half.tif'))
  assert.ok(
    !half.ok && half.problem.kind === 'unreadable' && /half\.tif .*damaged or cut short.*starts like a TIFF/.test(half.problem.message),
    JSON.stringify(half)
  )
  const rle = makeBmp({ width: 4, height: 4, bpp: 8, palette: [[0, 0, 0, 255]], pixel: () => [0, 0, 0, 255], compression: 1 })
  writeFileSync(join(dir, 'rle.bmp'), rle)
  const unsupported = await inspectPhoto(join(dir, 'rle.bmp'))
  assert.ok(!unsupported.ok && unsupported.problem.kind === 'unsupported' && /run-length/.test(unsupported.problem.message))

  const gone = await inspectPhoto(join(dir, 'moved-away.jpg'))
  assert.ok(!gone.ok && gone.problem.kind === 'unreadable' && /moved-away\.jpg.*no longer there/.test(gone.problem.message))

  const jpegThumb = await inspectPhoto(join(dir, 'big.jpg'), { thumbnail: { path: () => join(thumbs, 'x.jpg'), format: 'jpeg', size: 100 } })
  assert.ok(jpegThumb.ok)
  assert.deepEqual([(await sharp(join(thumbs, 'x.jpg')).metadata()).format, (await sharp(join(thumbs, 'x.jpg')).metadata()).width], ['jpeg', 100])
})

test('the same photo twice is found by content hash, whatever its name', async () => {
  const dir = tempDir('dups')
  writeFileSync(join(dir, 'one.jpg'), await jpeg(32, 32))
  copyFileSync(join(dir, 'one.jpg'), join(dir, 'copy of one.jpg'))
  writeFileSync(join(dir, 'other.jpg'), await jpeg(32, 33))
  const results = await inspectPhotos((await scanPhotos([dir])).files)
  const photos = results.flatMap((r) => (r.ok ? [r.photo] : []))
  const groups = findDuplicates(photos)
  assert.equal(groups.length, 1)
  assert.deepEqual(
    groups[0].paths.map((p) => p.split('/').pop()),
    ['copy of one.jpg', 'one.jpg']
  )
})

test('scan and inspect can be cancelled', async () => {
  const dir = tempDir('cancel')
  for (let i = 0; i < 12; i++) writeFileSync(join(dir, `p${i}.jpg`), await jpeg(40, 30))
  const stopped = new AbortController()
  stopped.abort()
  await assert.rejects(scanPhotos([dir], { signal: stopped.signal }), { name: 'AbortError' })
  const { files } = await scanPhotos([dir])
  const controller = new AbortController()
  let done = 0
  await assert.rejects(
    inspectPhotos(files, {
      concurrency: 2,
      signal: controller.signal,
      onProgress: (n) => {
        done = n
        if (n === 3) controller.abort()
      }
    }),
    { name: 'AbortError' }
  )
  assert.ok(done >= 3 && done < 12, `stopped early (${done} of 12)`)
})
