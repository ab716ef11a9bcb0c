// Requests that once killed or bloated the web host: a shard manifest with a huge count, weights fetched as files,
// uploads without end, a request whose error echoed its half-million keys. The host answers each and lives on.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { callApi, hostRequest, startTestHost, type HttpAnswer } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const uploadLimit = 64_000
let t: Awaited<ReturnType<typeof startTestHost>>
let dir: string
before(async () => {
  t = await startTestHost({ maxUploadBytes: uploadLimit })
  dir = join(tempDir(), 'project')
  assert.equal((await callApi(t.host, 'projects.create', { dir, name: 'Hostile' })).ok, true)
})
after(async () => {
  await t.stop()
})

const auth = () => ({ 'x-leafseg-token': t.host.token })
async function alive(): Promise<void> {
  const res = await callApi(t.host, 'datasets.list', {})
  assert.equal(res.ok, true, 'the host still answers')
}

test('a shard manifest asking for 300 million shards is refused by name; the host lives on', async () => {
  const shard = tempDir()
  const manifest = {
    format: 'leafseg-shard',
    version: 1,
    shard: { index: 1, count: 300_000_000 },
    model: '/m',
    threshold: 0.5,
    photos: [],
    predicted: [],
    problems: [],
    engine: 'x',
    finishedAt: ''
  }
  writeFileSync(join(shard, 'shard.json'), JSON.stringify(manifest))
  const res = await callApi(t.host, 'predictions.mergeShards', { dirs: [shard], csv: join(tempDir(), 'all.csv') })
  assert.equal(res.ok, false)
  assert.equal(res.error?.code, 'bad_input')
  assert.match(res.error!.message, /shard\.json is not a Leafseg shard manifest .*shard\.count/)
  await alive()
})

test('/files serves the pictures the views show, streamed, and never weights, optimizer state, JSON or CSV', async () => {
  const best = join(dir, 'runs', '3', 'best')
  mkdirSync(best, { recursive: true })
  for (const name of ['weights.bin', 'model.json', 'optimizer.bin', 'optimizer.json', 'leafseg.json']) writeFileSync(join(best, name), 'internal')
  mkdirSync(join(dir, 'predictions', '4'), { recursive: true })
  writeFileSync(join(dir, 'predictions', '4', 'measurements.csv'), 'photo,area_px\n')
  const picture = Buffer.alloc(3 << 20, 7) // a few megabytes: sent as it is read
  writeFileSync(join(dir, 'predictions', '4', 'leaf.png'), picture)
  for (const rel of [
    'runs/3/best/weights.bin',
    'runs/3/best/model.json',
    'runs/3/best/optimizer.bin',
    'runs/3/best/optimizer.json',
    'runs/3/best/leafseg.json',
    'predictions/4/measurements.csv'
  ]) {
    const res = await hostRequest(t.host, `/files/${rel}`, { headers: auth() })
    assert.equal(res.status, 403, rel)
    assert.ok(!res.body.includes('internal'), rel)
  }
  const res = await hostRequest(t.host, '/files/predictions/4/leaf.png', { headers: auth() })
  assert.equal(res.status, 200)
  assert.equal(res.headers['content-type'], 'image/png')
  assert.equal(Number(res.headers['content-length']), picture.length)
  assert.equal(res.body.length, picture.length)
})

/**
 * A PUT /upload whose body never ends (chunks keep coming until the host answers), sent without a length or with
 * a declared one. The host closes the connection after its answer: the writes after it fail, as expected.
 */
function endlessUpload(batch: string, path: string, declared?: number): Promise<HttpAnswer> {
  const port = Number(new URL(t.host.url).port)
  const length: Record<string, string> = declared === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(declared) }
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request(
      { host: '127.0.0.1', port, method: 'PUT', path: `/upload?batch=${batch}&path=${encodeURIComponent(path)}`, headers: { ...auth(), ...length } },
      (res) => {
        answered = true
        clearInterval(writer)
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
      }
    )
    req.on('error', (err) => {
      clearInterval(writer)
      if (!answered) reject(err)
    })
    const chunk = Buffer.alloc(16_000, 1)
    const writer = setInterval(() => req.write(chunk), 1)
  })
}

test('/upload refuses a file over the limit with 413, declared or streamed, and keeps nothing of it', async () => {
  const declared = await endlessUpload('big1', 'huge.tif', 300_000_000)
  assert.equal(declared.status, 413)
  assert.match(JSON.parse(declared.body).error.message, /huge\.tif is larger than 64 kB, the most a browser may upload/)
  const streamed = await endlessUpload('big2', 'endless.tif')
  assert.equal(streamed.status, 413)
  assert.match(JSON.parse(streamed.body).error.message, /endless\.tif is larger than/)
  assert.deepEqual(readdirSync(join(dir, 'imports', 'uploads', 'big2')), [], 'no partial file is left')
  const small = await hostRequest(t.host, '/upload?batch=ok&path=leaf.png', { method: 'PUT', headers: auth(), body: Buffer.alloc(1000, 2) })
  assert.equal(small.status, 200, small.body)
  await alive()
})

test('an argument with half a million unknown keys gets a short error, not its keys echoed', async () => {
  const args: Record<string, number> = { name: 1 }
  for (let i = 0; i < 500_000; i++) args[`key${i}`] = i
  const res = await callApi(t.host, 'datasets.create', args)
  assert.equal(res.ok, false)
  assert.equal(res.error?.code, 'invalid_argument')
  assert.ok(res.error!.message.length <= 2000, `the message is ${res.error!.message.length} characters`)
  assert.match(res.error!.message, /unknown fields key0, key1, .* and \d+ more/)
  await alive()
})
