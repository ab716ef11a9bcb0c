import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { csvField, LEAF_COLUMNS, leavesCsv, leavesCsvPath, measurementRow, measurementsCsv, writeMeasurementsCsv } from '../../src/main/core/prediction/csv'
import { measureLeaves } from '../../src/main/core/prediction/measure'

const mask = { width: 4, height: 2, channels: 1 as const, data: Uint8Array.from([255, 255, 0, 0, 255, 0, 0, 255]) }

test('header, one row per photo, and quoting of awkward names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leafseg-csv-'))
  const path = join(dir, 'leaf-area.csv')
  writeFileSync(path, 'old content')
  await writeMeasurementsCsv(path, [
    measurementRow('plain.jpg', measureLeaves(mask, { pixelsPerMm: 2 }), { source: 'labelled' }),
    measurementRow('vine 3, "left".jpg', measureLeaves(mask, { minLeafAreaPx: 2 }), { source: 'predicted', runId: 'run-7', threshold: 0.5 }),
    measurementRow('two\nlines.png', measureLeaves(mask), { source: 'labelled' })
  ])
  const text = readFileSync(path, 'utf8')
  assert.equal(
    text,
    [
      'photo,width,height,area_px,area_mm2,foreground_fraction,region_count,min_leaf_area_px,noise_px,scale_px_per_mm,source,run_id,threshold,' +
        'perimeter_px,perimeter_mm,convex_hull_area_px,convex_hull_area_mm2,solidity,bbox_width_px,bbox_height_px,ellipse_major_px,ellipse_minor_px,' +
        'ellipse_major_mm,ellipse_minor_mm,eccentricity,mean_r,mean_g,mean_b,hue_circular_mean,exg,gli,vari',
      // Rows without traits leave the 19 trait columns empty.
      'plain.jpg,4,2,4,1,0.5,2,1,0,2,labelled,,' + ','.repeat(19),
      '"vine 3, ""left"".jpg",4,2,3,,0.375,1,2,1,,predicted,run-7,0.5' + ','.repeat(19),
      '"two\nlines.png",4,2,4,,0.5,2,1,0,,labelled,,' + ','.repeat(19),
      ''
    ].join('\n')
  )
  assert.deepEqual(readdirSync(dir), ['leaf-area.csv'], 'no temp file left behind')
})

test('fields: spaces at the ends are quoted, numbers plain, missing values empty', () => {
  assert.equal(csvField(' leaf.jpg'), '" leaf.jpg"')
  assert.equal(csvField('a;b'), 'a;b')
  assert.equal(csvField(0.1 + 0.2), '0.30000000000000004')
  assert.equal(csvField(NaN), '')
  assert.equal(csvField(null), '')
})

test('a folder that does not exist gives a message naming the file', async () => {
  const path = join(tmpdir(), 'leafseg-no-such-folder', 'out.csv')
  await assert.rejects(writeMeasurementsCsv(path, []), (err: Error) => err.message.includes(path))
})

test('traits fill the per-photo row; the per-leaf CSV has a row per leaf, beside the per-photo one', async () => {
  const { leafTraits } = await import('../../src/main/core/prediction/traits')
  const rgb = { width: 4, height: 2, channels: 3 as const, data: new Uint8Array(24).fill(100).map((v, i) => (i % 3 === 1 ? 200 : v)) }
  const { photo, leaves } = leafTraits(mask, rgb, { pixelsPerMm: 2 })
  const row = { ...measurementRow('p.jpg', measureLeaves(mask, { pixelsPerMm: 2 }), { source: 'labelled' }), traits: photo }
  const [header, line] = measurementsCsv([row]).split('\n')
  const fields = Object.fromEntries(header.split(',').map((h, i) => [h, line.split(',')[i]]))
  assert.deepEqual([fields.area_px, fields.mean_g, fields.gli, fields.bbox_width_px], ['4', '200', String((400 - 200) / (400 + 200)), '4'])
  const leafLines = leavesCsv([{ photo: 'p.jpg', leaves, scalePxPerMm: 2 }], true)
    .trim()
    .split('\n')
  assert.equal(leafLines[0], LEAF_COLUMNS.join(','))
  assert.equal(leafLines.length, 1 + leaves.length)
  assert.ok(leafLines[1].startsWith('p.jpg,1,'))
  assert.equal(leavesCsvPath('/out/areas.csv'), '/out/areas.leaves.csv')
  assert.equal(leavesCsvPath('/out/areas'), '/out/areas.leaves.csv')
})

test('leaves told apart are counted as leaves, one row each; a mask without them counts regions and says so', async () => {
  const { leafTraits } = await import('../../src/main/core/prediction/traits')
  // One 4×2 blob of leaf: one region, but two leaves side by side (ids 1 | 2).
  const blob = { width: 4, height: 2, channels: 1 as const, data: new Uint8Array(8).fill(255) }
  const rgb = { width: 4, height: 2, channels: 3 as const, data: new Uint8Array(24).fill(90) }
  const instances = Uint16Array.from([1, 1, 2, 2, 1, 1, 2, 2])
  const asLeaves = measureLeaves(blob, { instances })
  const asRegions = measureLeaves(blob)
  assert.deepEqual([asLeaves.leafCount, asLeaves.leavesSeparated, asRegions.leafCount, asRegions.leavesSeparated], [2, true, 1, false])
  const header = (m: typeof asLeaves) =>
    measurementsCsv([measurementRow('p.jpg', m, { source: 'predicted', runId: '3', threshold: 0.5 })])
      .split('\n')
      .slice(0, 2)
  const [leafHeader, leafRow] = header(asLeaves)
  assert.ok(leafHeader.includes(',leaf_count,') && !leafHeader.includes('region_count'))
  assert.equal(leafRow.split(',')[leafHeader.split(',').indexOf('leaf_count')], '2')
  assert.ok(header(asRegions)[0].includes(',region_count,') && !header(asRegions)[0].includes('leaf_count'))
  const { leaves } = leafTraits(blob, rgb, { instances })
  assert.deepEqual(
    leaves.map((l) => [l.areaPx, l.bboxWidthPx, l.centroidX]),
    [
      [4, 2, 0.5],
      [4, 2, 2.5]
    ]
  )
  const perLeaf = leavesCsv([{ photo: 'p.jpg', leaves, scalePxPerMm: null }], true)
    .trim()
    .split('\n')
  assert.equal(perLeaf.length, 3)
  assert.ok(leavesCsv([{ photo: 'p.jpg', leaves: leafTraits(blob, rgb).leaves, scalePxPerMm: null }], false).startsWith('photo,region,'))
})
