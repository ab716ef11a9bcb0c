// Run by hostile-imports.test.ts in a child process: make hostile files, import each through the service's real
// job path, and print what every import said plus the process's peak memory. A crash shows as a bad exit.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import type { MaskImportSource } from '../../src/shared/api/datasets'
import { tempDir } from '../helpers/temp'

const W = 40
const H = 30

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body) >>> 0)
  return Buffer.concat([len, body, crc])
}

/** A decompression bomb: a tiny 1-bit PNG declaring width × height, all black. */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 1 // bit depth
  ihdr[9] = 0 // gray
  const raw = Buffer.alloc((1 + Math.ceil(width / 8)) * height) // filter byte 0 + zero bits per row
  const idat = deflateSync(raw, { level: 9 })
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0))
  ])
}

const nested = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth)

type Case = { name: string; file: string; source: MaskImportSource } | { name: string; file: string; photos: string }

async function main(): Promise<void> {
  const dir = tempDir('leafseg-hostile-')
  const at = (name: string): string => join(dir, name)
  const photos = at('photos')
  mkdirSync(photos)
  for (const [name, seed] of [
    ['a.png', 1],
    ['b.png', 2]
  ] as const) {
    const data = Buffer.alloc(W * H * 3, seed * 60)
    writeFileSync(
      join(photos, name),
      await sharp(data, { raw: { width: W, height: H, channels: 3 } })
        .png()
        .toBuffer()
    )
  }
  const bomb = bombPng(16000, 16000) // just under sharp's limit of 16383²
  const overLimit = bombPng(20000, 20000)

  // A local Labelbox stand-in serving the bomb as a mask.
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(bomb))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  process.env.LEAFSEG_LABELBOX_KEY_HOSTS = '127.0.0.1'

  const image = { id: 1, file_name: 'a.png', width: W, height: H }
  const coco = (name: string, body: unknown): Case => {
    const file = at(`${name}.json`)
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body))
    return { name, file, source: { kind: 'coco', file } }
  }
  const ann = (segmentation: unknown, extra: object = {}) => ({ id: 1, image_id: 1, segmentation, ...extra })
  const ndjson = (name: string, lines: unknown[] | string): Case => {
    const file = at(`${name}.ndjson`)
    writeFileSync(file, typeof lines === 'string' ? lines : lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'))
    return { name, file, source: { kind: 'labelbox', file, apiKey: 'key' } }
  }
  const legacy = (name: string, body: string): Case => {
    const file = at(`${name}.json`)
    writeFileSync(file, body)
    return { name, file, source: { kind: 'labelbox', file, apiKey: 'key' } }
  }
  const lbRow = (objects: unknown[], media: unknown = { width: W, height: H }) => ({
    data_row: { id: 'r1', global_key: 'a.png' },
    media_attributes: media,
    projects: { p: { labels: [{ annotations: { objects } }] } }
  })
  const lbPolygon = (points: unknown) => ({ annotation_kind: 'ImagePolygon', name: 'leaf', polygon: points })

  const zigzag = Array.from({ length: 400_000 }, (_, i) => [0, 0, W, H][i % 4])
  const manyPoints = Array.from({ length: 1_000_002 }, (_, i) => i % 40)
  const cases: Case[] = [
    coco('coco-huge-coordinates', {
      images: [image],
      annotations: [ann([[0, 0, 1e12, 0, 1e12, 1e12, 0, 1e12]]), ann([[-1e300, -1e300, 5, -1e300, 5, 5]], { id: 2 })]
    }),
    coco('coco-too-many-points', { images: [image], annotations: [ann([manyPoints])] }),
    coco('coco-boundary-too-long', { images: [image], annotations: [ann([zigzag])] }),
    coco('coco-deep-nesting', `{"images": [${JSON.stringify(image)}], "annotations": [{"id": 1, "image_id": 1, "segmentation": ${nested(200_000)}}]}`),
    coco('coco-enormous-list', `{"images": [${JSON.stringify(image)}], "annotations": [${Array(1_000_001).fill('0').join(',')}]}`),
    coco('coco-wrong-types', { images: [{ id: 1, file_name: 'a.png', width: '40', height: H }], annotations: [] }),
    coco('coco-segmentation-string', { images: [image], annotations: [ann('all of it')] }),
    coco('coco-rle-sum', { images: [image], annotations: [ann({ size: [H, W], counts: [1e15, 5] })] }),
    coco('coco-rle-garbage', { images: [image], annotations: [ann({ size: [H, W], counts: 'O'.repeat(200_000) })] }),
    coco('coco-rle-counts-object', { images: [image], annotations: [ann({ size: [H, W], counts: { a: 1 } })] }),
    coco('coco-huge-image', { images: [{ id: 1, file_name: 'a.png', width: 1e6, height: 1e6 }], annotations: [ann({ size: [1e6, 1e6], counts: [1e12] })] }),
    coco('coco-not-json', '\u0000\u0001binary garbage {{{'),
    ndjson('labelbox-huge-coordinates', [
      lbRow([
        lbPolygon([
          { x: -1e12, y: -1e12 },
          { x: 1e12, y: -1e12 },
          { x: 1e12, y: 1e12 }
        ])
      ])
    ]),
    ndjson('labelbox-huge-media', [
      lbRow(
        [
          lbPolygon([
            { x: 1, y: 1 },
            { x: 5, y: 1 },
            { x: 5, y: 5 }
          ])
        ],
        { width: 1e9, height: 1e9 }
      )
    ]),
    ndjson('labelbox-deep-nesting', `{"data_row": {"id": ${nested(200_000, '"x"')}, "global_key": "a.png"}, "projects": ${nested(1000, '{}')}}`),
    ndjson('labelbox-wrong-types', [lbRow([lbPolygon([{ x: 'one', y: 2 }])])]),
    ndjson('labelbox-objects-string', [{ data_row: { id: 'r', global_key: 'a.png' }, projects: { p: { labels: [{ annotations: { objects: 'many' } }] } } }]),
    ndjson('labelbox-too-many-lines', '{}\n'.repeat(1_000_002)),
    ndjson('labelbox-bomb-mask', [lbRow([{ annotation_kind: 'ImageSegmentationMask', name: 'leaf', mask: { url: `${base}/bomb.png` } }])]),
    legacy('labelbox-legacy-not-a-list', '{"rows": 1}'),
    legacy(
      'labelbox-legacy-huge-coordinates',
      JSON.stringify([
        {
          'External ID': 'b.png',
          Label: {
            objects: [
              {
                polygon: [
                  { x: 0, y: 0 },
                  { x: 1e15, y: 0 },
                  { x: 0, y: -1e15 }
                ]
              }
            ]
          }
        }
      ])
    ),
    legacy('labelbox-legacy-deep-nesting', nested(200_000))
  ]
  // A COCO file too large to parse, as a sparse file (no time spent writing it).
  const bigFile = at('coco-too-large.json')
  writeFileSync(bigFile, '{')
  truncateSync(bigFile, 300 * 1024 * 1024)
  cases.push({ name: 'coco-too-large', file: bigFile, source: { kind: 'coco', file: bigFile } })
  // Mask folders: a bomb (the wrong size for its photo) and an image over sharp's limit.
  const maskDir = at('masks')
  mkdirSync(maskDir)
  writeFileSync(join(maskDir, 'a_mask.png'), bomb)
  writeFileSync(join(maskDir, 'b_mask.png'), overLimit)
  cases.push({ name: 'mask-folder-bombs', file: maskDir, source: { kind: 'folder', dir: maskDir } })
  // Photos: a bomb just under the limit (a real if huge photo: imported) and one over it (refused as too large).
  const bombPhotos = at('bomb-photos')
  mkdirSync(bombPhotos)
  writeFileSync(join(bombPhotos, 'huge.png'), bomb)
  writeFileSync(join(bombPhotos, 'too-large.png'), overLimit)
  cases.push({ name: 'photo-bombs', file: bombPhotos, photos: bombPhotos })

  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  await service.api['projects.create']({ dir: at('project'), name: 'Hostile' })
  const dataset = await service.api['datasets.create']({ name: 'Fuzz' })
  const jobs = service.requireProject().jobs
  const photosJob = await jobs.wait((await service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [photos] })).id)
  if (photosJob.status !== 'succeeded') throw new Error(`setup failed: ${photosJob.error}`)

  const results = []
  for (const c of cases) {
    const started = Date.now()
    const target = 'photos' in c ? (await service.api['datasets.create']({ name: c.name })).id : dataset.id
    const job = await jobs.wait(
      ('photos' in c
        ? await service.api['datasets.importPhotos']({ datasetId: target, paths: [c.photos] })
        : await service.api['datasets.importMasks']({ datasetId: target, source: c.source })
      ).id
    )
    results.push({ name: c.name, file: c.file, status: job.status, error: job.error, result: job.result, ms: Date.now() - started })
  }
  service.dispose()
  server.close()
  process.stdout.write(JSON.stringify({ results, maxRssMb: process.resourceUsage().maxRSS / 1024 }))
}

await main()
