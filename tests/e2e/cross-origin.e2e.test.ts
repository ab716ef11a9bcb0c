// A hostile page on another port of 127.0.0.1 (a notebook, a dev server) gets the web host's cookie,
// because cookies are not separated by port. In Chromium, as reproduced: its form POST, no-cors fetch
// and cors fetch against the API must change nothing, and it cannot read the page (and its token).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { screenshot } from '../helpers/browser'
import { browserHost, callApi } from '../helpers/webhost'
import { tempDir } from '../helpers/temp'

const { skip, state } = browserHost()
let hostile: Server | undefined
after(() => hostile?.close())

function hostilePage(target: string): string {
  const api = `${target}/api/datasets.create`
  // The form's text/plain body is `{"name":"evil-form=` + `"}`: valid JSON for the API.
  return `<!doctype html><html><body>
<h1>Some other local page</h1>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" action="${api}" enctype="text/plain" target="sink"><input name='{"name":"evil-form' value='"}'></form>
<pre id="log"></pre>
<script>
const results = {}
const log = (k, v) => { results[k] = v; document.getElementById('log').textContent = JSON.stringify(results, null, 1) }
const form = new Promise((resolve) => { document.getElementById('sink').addEventListener('load', () => resolve('loaded'), { once: true }) })
document.getElementById('f').submit()
const noCors = fetch(${JSON.stringify(api)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: JSON.stringify({ name: 'evil-no-cors' }) }).then(() => 'sent', (e) => 'error ' + e.message)
const cors = fetch(${JSON.stringify(api)}, { method: 'POST', mode: 'cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'evil-cors' }) }).then((r) => 'status ' + r.status, () => 'blocked')
const simpleCors = fetch(${JSON.stringify(api)}, { method: 'POST', mode: 'cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ name: 'evil-simple-cors' }) }).then((r) => 'status ' + r.status, () => 'blocked')
const readPage = fetch(${JSON.stringify(target + '/')}, { credentials: 'include' }).then((r) => r.text(), () => 'blocked')
Promise.all([form, noCors, cors, simpleCors, readPage]).then(([f, n, c, s, p]) => {
  log('form', f); log('noCors', n); log('cors', c); log('simpleCors', s); log('readPage', p)
  window.results = results
})
</script></body></html>`
}

test('a page on another 127.0.0.1 port cannot create anything through the API', { skip }, async () => {
  const { page, t } = state
  await page.goto(t.host.url) // the user has Leafseg open: the browser holds its cookie
  await page.getByRole('heading', { name: 'New project' }).waitFor()
  assert.equal((await callApi(t.host, 'projects.create', { dir: join(tempDir(), 'victim'), name: 'Victim' })).ok, true)
  assert.equal((await callApi(t.host, 'datasets.create', { name: 'Vines' })).ok, true)
  const cookies = await page.context().cookies()
  assert.ok(
    cookies.some((c) => c.name === 'leafseg_token' && c.domain === '127.0.0.1'),
    'the browser holds the cookie'
  )

  const target = new URL(t.host.url).origin
  hostile = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(hostilePage(target)))
  await new Promise<void>((resolve) => hostile!.listen(0, '127.0.0.1', resolve))
  const hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`
  assert.notEqual(hostileUrl, `${target}/`)

  await page.goto(hostileUrl) // same browser, same cookie jar
  const results = (await (
    await page.waitForFunction(() => (window as unknown as { results?: Record<string, string> }).results, undefined, { timeout: 15_000 })
  ).jsonValue()) as Record<string, string>
  await screenshot(page, 'security-01-hostile-page')

  assert.equal(results.form, 'loaded', 'the form was submitted')
  assert.equal(results.noCors, 'sent', 'the no-cors request went out')
  assert.equal(results.cors, 'blocked')
  assert.equal(results.simpleCors, 'blocked', 'no CORS answer lets it read a response')
  assert.equal(results.readPage, 'blocked', 'the page (and the token in it) cannot be read')
  const datasets = await callApi(t.host, 'datasets.list', {})
  assert.deepEqual(
    datasets.value.map((d: { name: string }) => d.name),
    ['Vines']
  )

  // The real UI, from its own origin (loaded by the cookie, no token in the address), still works.
  await page.goto(`${target}/`)
  await page.getByTestId('project-name').filter({ hasText: 'Victim' }).waitFor()
  await page.getByTestId('nav-datasets').click()
  await page.getByText('Vines').first().waitFor()
})

test('an address without its token shows how to open Leafseg', { skip }, async () => {
  const { page, t } = state
  await page.context().clearCookies()
  const res = await page.goto(`${new URL(t.host.url).origin}/`)
  assert.equal(res?.status(), 401)
  await page.getByRole('heading', { name: 'Open Leafseg with its address' }).waitFor()
  assert.match((await page.textContent('body')) ?? '', /leafseg serve/)
  await screenshot(page, 'security-02-needs-token')
})
