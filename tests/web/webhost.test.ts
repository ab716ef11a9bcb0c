import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startTestHost } from '../helpers/webhost'

let t: Awaited<ReturnType<typeof startTestHost>>
before(async () => {
  t = await startTestHost()
})
after(async () => {
  await t.stop()
})

const port = () => Number(new URL(t.host.url).port)

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const method = path.startsWith('/api/') && path !== '/api/events' ? 'POST' : 'GET'
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: port(), path, method, headers }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end(method === 'POST' ? '{}' : undefined)
  })
}

test('the URL is on loopback with a long random token', () => {
  const url = new URL(t.host.url)
  assert.equal(url.hostname, '127.0.0.1')
  assert.ok((url.searchParams.get('token') ?? '').length >= 32)
})

test('every request without the token gets 401', async () => {
  for (const path of ['/', '/index.html', '/api/app.info', '/api/events', '/assets/x.js']) {
    assert.equal((await get(path)).status, 401, path)
  }
  assert.equal((await get('/api/app.info', { authorization: 'Bearer wrong' })).status, 401)
})

test('with the token: the page, the API and a session cookie', async () => {
  const first = await get(`/?token=${t.host.token}`)
  assert.equal(first.status, 200)
  assert.match(first.body, /<div id="app">/)
  assert.match(String(first.headers['set-cookie']), /HttpOnly; SameSite=Strict/)
  const info = await get('/api/app.info', { authorization: `Bearer ${t.host.token}` })
  assert.deepEqual(JSON.parse(info.body), { ok: true, value: { version: '0.1.0', host: 'web', nativeDialogs: false, demoJob: true } })
  const viaCookie = await get('/api/projects.current', { cookie: `leafseg_token=${t.host.token}` })
  assert.deepEqual(JSON.parse(viaCookie.body), { ok: true, value: null })
})

test('a request naming another host is refused (DNS rebinding)', async () => {
  const res = await get(`/?token=${t.host.token}`, { host: `evil.example:${port()}` })
  assert.equal(res.status, 403)
})

test('invalid arguments come back as a typed error', async () => {
  const res = await new Promise<string>((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: port(), path: '/api/projects.create', method: 'POST', headers: { authorization: `Bearer ${t.host.token}` } },
      (r) => {
        let b = ''
        r.on('data', (c) => (b += c))
        r.on('end', () => resolve(b))
      }
    )
    req.end(JSON.stringify({ dir: 42 }))
  })
  const body = JSON.parse(res)
  assert.equal(body.ok, false)
  assert.equal(body.error.code, 'invalid_argument')
})
