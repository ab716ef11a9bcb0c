import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { hostRequest, startTestHost } from '../helpers/webhost'

let t: Awaited<ReturnType<typeof startTestHost>>
before(async () => {
  t = await startTestHost()
})
after(async () => {
  await t.stop()
})

const port = () => Number(new URL(t.host.url).port)
const own = () => `http://127.0.0.1:${port()}`

/** GET for pages, files and the event stream; POST (empty arguments) for API methods. */
function get(path: string, headers: Record<string, string> = {}) {
  const post = path.startsWith('/api/') && !path.startsWith('/api/events')
  return hostRequest(t.host, path, post ? { method: 'POST', headers, body: '{}' } : { headers })
}

test('the URL is on loopback with a long random token', () => {
  const url = new URL(t.host.url)
  assert.equal(url.hostname, '127.0.0.1')
  assert.ok((url.searchParams.get('token') ?? '').length >= 32)
})

test('every request without the token gets 401: a page saying how to open Leafseg, JSON for the API', async () => {
  for (const path of ['/', '/index.html', '/assets/x.js', '/files/thumbnails/x.webp']) {
    const res = await get(path)
    assert.equal(res.status, 401, path)
    assert.match(String(res.headers['content-type']), /^text\/html/, path)
    assert.match(res.body, /leafseg serve/, path)
  }
  for (const path of ['/api/app.info', '/api/events']) {
    const res = await get(path)
    assert.equal(res.status, 401, path)
    assert.equal(JSON.parse(res.body).error.code, 'forbidden', path)
  }
  assert.equal((await get('/api/app.info', { 'x-leafseg-token': 'wrong' })).status, 401)
  assert.equal((await get('/api/app.info', { authorization: 'Bearer wrong' })).status, 401)
})

test('with the token: the page (token inside, for its script), a session cookie, and the API with the token header', async () => {
  const first = await get(`/?token=${t.host.token}`)
  assert.equal(first.status, 200)
  assert.match(first.body, /<div id="app">/)
  assert.ok(first.body.includes(`<meta name="leafseg-token" content="${t.host.token}" />`))
  assert.equal(first.headers['cache-control'], 'no-store')
  assert.equal(first.headers['x-frame-options'], 'DENY')
  assert.match(String(first.headers['set-cookie']), /HttpOnly; SameSite=Strict/)
  const info = await get('/api/app.info', { 'x-leafseg-token': t.host.token })
  assert.deepEqual(JSON.parse(info.body), { ok: true, value: { version: '0.1.0', host: 'web', nativeDialogs: false, demoJob: true } })
  const bearer = await get('/api/projects.current', { authorization: `Bearer ${t.host.token}` })
  assert.deepEqual(JSON.parse(bearer.body), { ok: true, value: null })
})

test('the cookie loads the page and files, never the API or the event stream', async () => {
  const cookie = `leafseg_token=${t.host.token}`
  assert.equal((await get('/', { cookie })).status, 200)
  assert.equal((await get('/files/thumbnails/x.webp', { cookie })).status, 404, 'authenticated; no project open')
  assert.equal((await get('/api/projects.current', { cookie })).status, 401)
  assert.equal((await get('/api/projects.current', { cookie, origin: own() })).status, 401, 'even from our own page, the API needs the header')
  assert.equal((await get('/api/events', { cookie })).status, 401)
  assert.equal((await hostRequest(t.host, '/upload?batch=b&path=x.png', { method: 'PUT', headers: { cookie }, body: 'x' })).status, 401)
})

test('the event stream takes the token in its query (EventSource cannot send headers)', async () => {
  const res = await new Promise<{ status: number; type: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: port(), path: `/api/events?token=${t.host.token}` }, (r) => {
      resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']) })
      r.destroy()
    })
    req.on('error', reject)
    req.end()
  })
  assert.deepEqual(res, { status: 200, type: 'text/event-stream' })
})

test('a state-changing request from another Origin is refused, even with the token', async () => {
  const headers = { 'x-leafseg-token': t.host.token, 'content-type': 'application/json' }
  for (const origin of [`http://127.0.0.1:${port() + 1}`, 'http://localhost:3000', 'null', 'https://evil.example']) {
    const res = await hostRequest(t.host, '/api/datasets.create', { method: 'POST', headers: { ...headers, origin }, body: '{"name":"x"}' })
    assert.equal(res.status, 403, origin)
    const upload = await hostRequest(t.host, '/upload?batch=b&path=x.png', { method: 'PUT', headers: { ...headers, origin }, body: 'x' })
    assert.equal(upload.status, 403, origin)
  }
  const preflight = await hostRequest(t.host, '/api/datasets.create', {
    method: 'OPTIONS',
    headers: { origin: 'http://127.0.0.1:1', 'access-control-request-headers': 'x-leafseg-token' }
  })
  assert.equal(preflight.status, 403)
  assert.equal(preflight.headers['access-control-allow-origin'], undefined)
  const ours = await hostRequest(t.host, '/api/projects.current', { method: 'POST', headers: { ...headers, origin: own() }, body: '{}' })
  assert.deepEqual(JSON.parse(ours.body), { ok: true, value: null })
})

test('a request naming another host is refused (DNS rebinding)', async () => {
  const res = await get(`/?token=${t.host.token}`, { host: `evil.example:${port()}` })
  assert.equal(res.status, 403)
})

test('a broken percent-encoding is a bad request, not a server error', async () => {
  const headers = { 'x-leafseg-token': t.host.token }
  for (const path of ['/files/%E0%A4%A', '/assets/%E0%A4%A', '/%E0%A4%A']) {
    assert.equal((await get(path, headers)).status, 400, path)
  }
  assert.equal((await get('/api/%E0%A4%A', headers)).status, 400)
})

test('invalid arguments come back as a typed error', async () => {
  const res = await hostRequest(t.host, '/api/projects.create', {
    method: 'POST',
    headers: { 'x-leafseg-token': t.host.token },
    body: JSON.stringify({ dir: 42 })
  })
  const body = JSON.parse(res.body)
  assert.equal(body.ok, false)
  assert.equal(body.error.code, 'invalid_argument')
})
