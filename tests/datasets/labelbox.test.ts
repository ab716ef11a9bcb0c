import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdirSync } from 'node:fs'
import {
  downloadLabelboxMasks,
  labelboxRowMask,
  matchLabelboxRows,
  parseLabelboxExport,
  type DownloadOptions,
  type LabelboxRow
} from '../../src/main/core/datasets/labelbox'
import { DatasetError } from '../../src/main/core/datasets/errors'
import { png, tempDir } from './helpers'

const KEY = 'lb-SECRET-key-123'
const W = 6
const H = 4
// Composite mask: two leaves (red, green) and a pot (blue) that is not a leaf object.
const COMPOSITE = ['RR..GG', 'RR..GG', '..BB..', '..BB..']
const rgbOf: Record<string, number[]> = { R: [255, 0, 0], G: [0, 255, 0], B: [0, 0, 255], '.': [0, 0, 0] }
const compositePixels = COMPOSITE.join('')
  .split('')
  .flatMap((c) => rgbOf[c])
const legacyA = ['X.....', 'XX....', '......', '......'] // white where X
const legacyB = ['......', '......', '....XX', '....XX']
const whiteWhere = (rows: string[]): number[] =>
  rows
    .join('')
    .split('')
    .map((c) => (c === 'X' ? 255 : 0))

interface Server {
  base: string
  hits: Map<string, number>
  times: Map<string, number[]>
  authSeen: Map<string, string | undefined>
  close: () => Promise<void>
}

/** A stand-in for Labelbox: serves the masks, checks the key, and misbehaves on chosen paths. */
async function maskServer(): Promise<Server> {
  const files = new Map<string, Buffer>([
    ['/composite/1', await png(W, H, 3, compositePixels)],
    ['/legacy/a', await png(W, H, 1, whiteWhere(legacyA))],
    ['/legacy/b', await png(W, H, 1, whiteWhere(legacyB))]
  ])
  const hits = new Map<string, number>()
  const times = new Map<string, number[]>()
  const authSeen = new Map<string, string | undefined>()
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0]
    const n = (hits.get(path) ?? 0) + 1
    hits.set(path, n)
    times.set(path, [...(times.get(path) ?? []), Date.now()])
    authSeen.set(path, req.headers.authorization)
    const send = (status: number, body?: Buffer, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': body ? 'image/png' : 'text/plain', ...headers })
      res.end(body ?? `status ${status}`)
    }
    const plain = path.replace(/^\/(slow|flaky|throttled|public|stall)/, '')
    const body = files.get(plain) ?? files.get('/legacy/a')!
    if (path.startsWith('/public/')) return send(200, body)
    if (req.headers.authorization !== `Bearer ${KEY}`) return send(401)
    if (path.startsWith('/gone')) return send(410)
    if (path.startsWith('/forbidden')) return send(403)
    if (path.startsWith('/broken')) return send(500)
    if (path.startsWith('/flaky') && n <= 2) return send(503)
    if (path.startsWith('/throttled') && n === 1) return send(429, undefined, { 'retry-after': '1' })
    if (path.startsWith('/stall') && n === 1) return // never answers: the client's timeout must fire
    if (path.startsWith('/hang')) return // never answers at all
    if (path.startsWith('/slow')) {
      setTimeout(() => send(200, body), 60)
      return
    }
    send(200, body)
  }
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    times,
    authSeen,
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}

function ndjson(base: string): string {
  const rows = [
    {
      data_row: { id: 'dr1', global_key: 'plant_1.jpg', row_data: 'https://cdn.example/plant_1.jpg?sig=1', external_id: 'ext-1' },
      media_attributes: { height: H, width: W },
      projects: {
        proj9: {
          labels: [
            {
              annotations: {
                objects: [
                  { name: 'leaf', annotation_kind: 'ImageSegmentationMask', composite_mask: { url: `${base}/composite/1?token=t`, color_rgb: [255, 0, 0] } },
                  { name: 'leaf', annotation_kind: 'ImageSegmentationMask', composite_mask: { url: `${base}/composite/1?token=t`, color_rgb: [0, 255, 0] } },
                  { name: 'box', annotation_kind: 'ImageBoundingBox', bounding_box: { top: 0, left: 0, height: 1, width: 1 } }
                ]
              }
            }
          ]
        }
      }
    },
    {
      data_row: { id: 'dr2', row_data: 'https://cdn.example/photos/plant_2.png', external_id: 'plant_2' },
      media_attributes: { height: H, width: W },
      projects: {
        proj9: {
          labels: [
            {
              annotations: {
                objects: [
                  { name: 'leaf', annotation_kind: 'ImageSegmentationMask', mask: { url: `${base}/legacy/a` } },
                  { name: 'leaf', annotation_kind: 'ImageSegmentationMask', mask: { url: `${base}/legacy/b` } }
                ]
              }
            }
          ]
        }
      }
    },
    { data_row: { id: 'dr3', row_data: 'https://cdn.example/photos/plant_3.png' }, media_attributes: { height: H, width: W }, projects: {} },
    {
      data_row: { id: 'dr4', global_key: 'plant_4.jpg' },
      media_attributes: { height: H, width: W },
      projects: {
        proj9: {
          labels: [
            {
              annotations: {
                objects: [
                  {
                    name: 'leaf',
                    annotation_kind: 'ImagePolygon',
                    polygon: [
                      { x: 1, y: 1 },
                      { x: 3, y: 1 },
                      { x: 3, y: 3 },
                      { x: 1, y: 3 }
                    ]
                  }
                ]
              }
            }
          ]
        }
      }
    }
  ]
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
}

const options = (cacheDir: string, extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  apiKey: KEY,
  cacheDir,
  keyHosts: ['127.0.0.1'],
  retryDelayMs: 5,
  ...extra
})

test('NDJSON export: rows, composite and per-object masks, other annotations counted', () => {
  const exp = parseLabelboxExport(ndjson('http://h'), 'export.ndjson')
  assert.equal(exp.format, 'ndjson')
  assert.equal(exp.rows.length, 4)
  const [a, b, c, d] = exp.rows
  assert.deepEqual([a.globalKey, a.externalId, a.dataRowId, a.width, a.height, a.position], ['plant_1.jpg', 'ext-1', 'dr1', W, H, 1])
  assert.deepEqual(
    a.objects.map((o) => o.colorRgb),
    [
      [255, 0, 0],
      [0, 255, 0]
    ]
  )
  assert.equal(a.otherAnnotations, 1)
  assert.deepEqual(
    b.objects.map((o) => [o.url, o.colorRgb]),
    [
      ['http://h/legacy/a', undefined],
      ['http://h/legacy/b', undefined]
    ]
  )
  assert.equal(c.objects.length, 0)
  assert.deepEqual(d.polygons, [[1, 1, 3, 1, 3, 3, 1, 3]])
})

test('legacy JSON export: External ID, Labeled Data, Label.objects[].instanceURI, skipped rows', () => {
  const text = JSON.stringify([
    {
      ID: 'l1',
      'DataRow ID': 'd1',
      'External ID': 'IMG_1.jpg',
      'Labeled Data': 'https://x/IMG_1.jpg',
      Label: {
        objects: [
          { title: 'leaf', instanceURI: 'https://api.labelbox.com/masks/1' },
          { title: 'pt', point: { x: 1, y: 1 } }
        ]
      }
    },
    { ID: 'l2', 'External ID': 'IMG_2.jpg', 'Labeled Data': 'https://x/IMG_2.jpg', Label: 'Skip' },
    {
      ID: 'l3',
      'External ID': 'IMG_3.jpg',
      Label: {
        objects: [
          {
            title: 'leaf',
            polygon: [
              { x: 0, y: 0 },
              { x: 2, y: 0 },
              { x: 2, y: 2 }
            ]
          }
        ]
      }
    }
  ])
  const exp = parseLabelboxExport(text, 'old.json')
  assert.equal(exp.format, 'legacy-json')
  assert.deepEqual(
    exp.rows.map((r) => [r.externalId, r.objects.map((o) => o.url), r.otherAnnotations]),
    [
      ['IMG_1.jpg', ['https://api.labelbox.com/masks/1'], 1],
      ['IMG_2.jpg', [], 0],
      ['IMG_3.jpg', [], 0]
    ]
  )
  assert.deepEqual(exp.rows[2].polygons, [[0, 0, 2, 0, 2, 2]])
  assert.throws(
    () => parseLabelboxExport(JSON.stringify([{ 'External ID': 'a', Label: { objects: [{ polygon: [{ x: 'one' }] }] } }]), 'old.json'),
    /old\.json, row 1: a polygon/
  )
})

test('corrupt exports name the file and the line or row', () => {
  const good = ndjson('http://h').split('\n')
  const broken = [good[0], good[1].slice(0, 40), good[2]].join('\n')
  assert.throws(
    () => parseLabelboxExport(broken, 'export.ndjson'),
    (e: DatasetError) => e.code === 'corrupt-export' && /export\.ndjson, line 2: is not valid JSON/.test(e.message)
  )
  assert.throws(() => parseLabelboxExport('{"foo": 1}\n', 'x.ndjson'), /x\.ndjson, line 1: has no "data_row"/)
  const noColour = JSON.stringify({
    data_row: { id: 'd' },
    projects: { p: { labels: [{ annotations: { objects: [{ annotation_kind: 'ImageSegmentationMask', composite_mask: { url: 'u' } }] } }] } }
  })
  assert.throws(() => parseLabelboxExport(`${good[0]}\n\n${noColour}`, 'y.ndjson'), /y\.ndjson, line 3: a composite_mask lacks/)
  assert.throws(() => parseLabelboxExport('[{"External ID": "a"', 'old.json'), /old\.json is not valid JSON/)
  assert.throws(() => parseLabelboxExport('[{"Label": {}}]', 'old.json'), /old\.json, row 1: has no "External ID"/)
  assert.throws(() => parseLabelboxExport('   ', 'blank.ndjson'), /blank\.ndjson is empty/)
})

test('download, union per row (composite colours and separate masks), and match to photos', async () => {
  const server = await maskServer()
  try {
    const cache = tempDir('lbcache')
    const { rows } = parseLabelboxExport(ndjson(server.base), 'export.ndjson')
    const report = await downloadLabelboxMasks(rows, options(cache))
    assert.deepEqual(report, { downloaded: 3, cached: 0, failed: [] })
    assert.equal(server.hits.get('/composite/1'), 1, 'a composite mask shared by objects is fetched once')
    assert.equal(server.authSeen.get('/composite/1'), `Bearer ${KEY}`)
    assert.equal(readdirSync(cache).length, 3)

    const a = await labelboxRowMask(rows[0], cache)
    assert.deepEqual(
      Array.from(a!.data),
      COMPOSITE.join('')
        .split('')
        .map((c) => (c === 'R' || c === 'G' ? 255 : 0)),
      'red and green leaves, not the blue pot'
    )
    const b = await labelboxRowMask(rows[1], cache)
    assert.deepEqual(
      Array.from(b!.data),
      whiteWhere(legacyA).map((v, i) => (v || whiteWhere(legacyB)[i] ? 255 : 0))
    )
    assert.equal(await labelboxRowMask(rows[2], cache), null)
    const d = await labelboxRowMask(rows[3], cache)
    assert.deepEqual(
      Array.from(d!.data),
      ['......', '.XX...', '.XX...', '......']
        .join('')
        .split('')
        .map((c) => (c === 'X' ? 255 : 0)),
      'polygons use the COCO pixel rule'
    )

    const m = matchLabelboxRows(rows, ['/p/plant_1.jpg', '/p/plant_2.png', '/p/plant_9.jpg'])
    assert.deepEqual(
      m.pairs.map((p) => [p.row.dataRowId, p.photo, p.by]),
      [
        ['dr1', '/p/plant_1.jpg', 'global-key'],
        ['dr2', '/p/plant_2.png', 'external-id']
      ]
    )
    assert.deepEqual(
      m.unmatchedRows.map((u) => u.row.dataRowId),
      ['dr3', 'dr4']
    )
    assert.deepEqual(m.unmatchedPhotos, ['/p/plant_9.jpg'])

    await assert.rejects(
      labelboxRowMask(rows[0], cache, 'export.ndjson', { width: H, height: W }),
      /plant_1\.jpg \(export\.ndjson, #1\) is 6×4 pixels but its photo is 4×6/
    )
    // A mask of another size than media_attributes says is refused, naming the row.
    const wrong: LabelboxRow = { ...rows[1], width: W + 1 }
    await assert.rejects(
      labelboxRowMask(wrong, cache, 'export.ndjson'),
      (e: DatasetError) => e.code === 'mask-size' && /dr2|plant_2/.test(e.message) && /export\.ndjson/.test(e.message)
    )
  } finally {
    await server.close()
  }
})

test('a cancelled download resumes without fetching again what it already has', async () => {
  const server = await maskServer()
  try {
    const cache = tempDir('lbcache')
    const rows: LabelboxRow[] = Array.from({ length: 6 }, (_, i) => ({
      position: i + 1,
      externalId: `p${i}.jpg`,
      objects: [{ url: `${server.base}/slow/legacy/a?n=${i}` }, { url: `${server.base}/slow${i}/legacy/b` }],
      polygons: [],
      otherAnnotations: 0
    }))
    const controller = new AbortController()
    await assert.rejects(
      downloadLabelboxMasks(rows, options(cache, { concurrency: 2, signal: controller.signal, onProgress: (done) => done === 3 && controller.abort() })),
      { name: 'AbortError' }
    )
    const kept = readdirSync(cache).filter((f) => f.endsWith('.png') && !f.startsWith('.'))
    assert.ok(kept.length >= 3 && kept.length < 12, `${kept.length} masks kept`)
    assert.ok(
      readdirSync(cache).every((f) => !f.endsWith('.tmp')),
      'no half-written files'
    )
    const before = [...server.hits.values()].reduce((s, n) => s + n, 0)
    const report = await downloadLabelboxMasks(rows, options(cache))
    const after = [...server.hits.values()].reduce((s, n) => s + n, 0)
    assert.equal(report.cached, kept.length)
    assert.equal(report.downloaded, 12 - kept.length)
    assert.equal(after - before, 12 - kept.length, 'only the missing masks were requested')
  } finally {
    await server.close()
  }
})

test('401 stops with a message about the key (without the key); 429 waits Retry-After; 5xx is retried', async () => {
  const server = await maskServer()
  try {
    const cache = tempDir('lbcache')
    const row = (position: number, path: string): LabelboxRow => ({ position, objects: [{ url: `${server.base}${path}` }], polygons: [], otherAnnotations: 0 })
    await assert.rejects(downloadLabelboxMasks([row(1, '/legacy/a'), row(2, '/legacy/b')], options(cache, { apiKey: 'wrong' })), (e: DatasetError) => {
      assert.equal(e.code, 'auth')
      assert.match(e.message, /API key/)
      assert.ok(!e.message.includes('wrong') && !e.message.includes(KEY))
      return true
    })

    const report = await downloadLabelboxMasks([row(1, '/throttled/legacy/a'), row(2, '/flaky/legacy/b')], options(cache))
    assert.deepEqual([report.downloaded, report.failed.length], [2, 0])
    const [first, second] = server.times.get('/throttled/legacy/a')!
    assert.ok(second - first >= 950, `waited ${second - first} ms after "Retry-After: 1"`)
    assert.equal(server.hits.get('/flaky/legacy/b'), 3, 'two 503s, then success')

    const stalled = await downloadLabelboxMasks([row(3, '/stall/legacy/a')], options(cache, { requestTimeoutMs: 300 }))
    assert.deepEqual([stalled.downloaded, server.hits.get('/stall/legacy/a')], [1, 2], 'a stalled request is given up and retried')
  } finally {
    await server.close()
  }
})

test('a link that never answers fails after one deadline for all its tries, naming the link without its token', async () => {
  const server = await maskServer()
  try {
    const url = `${server.base}/hang/legacy/a?token=s3cret`
    const row: LabelboxRow = { position: 7, objects: [{ url }], polygons: [], otherAnnotations: 0 }
    const started = Date.now()
    const report = await downloadLabelboxMasks([row], options(tempDir('lbcache'), { requestTimeoutMs: 300, deadlineMs: 900 }))
    const took = Date.now() - started
    // The lower bound is the behaviour (it waited for the deadline); the upper one only says it did not wait for anything longer.
    assert.ok(took >= 850 && took < 15_000, `gave up after ${took} ms, the deadline being 900 ms`)
    assert.ok((server.hits.get('/hang/legacy/a') ?? 0) >= 2, 'retried within the deadline')
    assert.equal(report.failed.length, 1)
    const [failure] = report.failed
    assert.equal(failure.url, `${server.base}/hang/legacy/a`)
    assert.match(failure.message, new RegExp(`^Mask for export row #7: ${server.base}/hang/legacy/a did not deliver the mask within 0.9 s`))
    assert.ok(!failure.message.includes('s3cret') && !failure.message.includes(KEY))
  } finally {
    await server.close()
  }
})

test('expired links and persistent server errors are listed per row and the rest still downloads', async () => {
  const server = await maskServer()
  try {
    const cache = tempDir('lbcache')
    const rows: LabelboxRow[] = [
      { position: 4, objects: [{ url: `${server.base}/gone/x?X-Goog-Signature=abc` }], polygons: [], otherAnnotations: 0 },
      { position: 5, objects: [{ url: `${server.base}/forbidden/y` }], polygons: [], otherAnnotations: 0 },
      { position: 6, objects: [{ url: `${server.base}/broken/z` }], polygons: [], otherAnnotations: 0 },
      { position: 7, objects: [{ url: `${server.base}/legacy/a` }], polygons: [], otherAnnotations: 0 },
      { position: 8, objects: [{ url: 'masks/local.png' }], polygons: [], otherAnnotations: 0 }
    ]
    const report = await downloadLabelboxMasks(rows, options(cache, { maxAttempts: 3 }))
    assert.equal(report.downloaded, 1)
    const byRow = new Map(report.failed.map((f) => [f.rows[0], f]))
    assert.match(byRow.get(4)!.message, /#4.*HTTP 410.*export again/)
    assert.equal(byRow.get(4)!.url, `${server.base}/gone/x`, 'signed query strings are left out')
    assert.match(byRow.get(5)!.message, /HTTP 403.*export again.*API key/)
    assert.match(byRow.get(6)!.message, /failed 3 times/)
    assert.equal(server.hits.get('/broken/z'), 3)
    assert.match(byRow.get(8)!.message, /not a web address/)
    await assert.rejects(labelboxRowMask(rows[0], cache, 'e.ndjson'), /has not been downloaded/)
  } finally {
    await server.close()
  }
})

test('the API key goes only to the hosts allowed for it', async () => {
  const server = await maskServer()
  try {
    const rows: LabelboxRow[] = [{ position: 1, objects: [{ url: `${server.base}/public/legacy/a` }], polygons: [], otherAnnotations: 0 }]
    const report = await downloadLabelboxMasks(rows, { apiKey: KEY, cacheDir: tempDir('lbcache') }) // default: Labelbox hosts only
    assert.equal(report.downloaded, 1)
    assert.equal(server.authSeen.get('/public/legacy/a'), undefined)
  } finally {
    await server.close()
  }
})

test('a mask link that streams without end is cut off at what its image can need, naming the row', async () => {
  const chunk = Buffer.alloc(64_000, 0x89)
  let sent = 0
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }) // no length: it never says how much is coming
    const more = (): void => {
      while (sent < 2_000_000_000 && res.write(chunk)) sent += chunk.length
      if (sent < 2_000_000_000) res.once('drain', more)
    }
    req.socket.on('close', () => res.removeAllListeners('drain'))
    more()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    // A 40×30 image's mask: at most 40 × 30 × 8 bytes and a megabyte; the import once read past 4 GB.
    const small: LabelboxRow = { position: 3, width: 40, height: 30, objects: [{ url: `${base}/endless/a?token=x` }], polygons: [], otherAnnotations: 0 }
    const report = await downloadLabelboxMasks([small], options(tempDir('lbcache')))
    assert.equal(report.failed.length, 1)
    assert.match(
      report.failed[0].message,
      /^Mask for export row #3: the server sent more than 1\.\d+ MB for one mask, more than its image can need; the download was stopped/
    )
    assert.ok(sent < 200_000_000, `the server got to send ${sent} bytes`)
    // No size in the export: the hard ceiling (here made small) stops it all the same.
    const unsized: LabelboxRow = { position: 5, objects: [{ url: `${base}/endless/b` }], polygons: [], otherAnnotations: 0 }
    const ceiling = await downloadLabelboxMasks([unsized], options(tempDir('lbcache'), { maxMaskBytes: 3_000_000 }))
    assert.match(ceiling.failed[0]?.message ?? '', /^Mask for export row #5: the server sent more than 3\.0 MB for one mask/)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})
