// The Electron host's guards, decided by plain functions (Electron itself cannot run here).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { externalLinkHosts, fileProtocolCorsOrigin, mayNavigate, mayOpenExternally } from '../../src/main/security'
import { ChosenFolders } from '../../src/main/core/service/paths'
import { LeafsegService } from '../../src/main/core/service/service'
import { dispatch } from '../../src/main/core/service/dispatch'
import { inProcessJobs } from '../../src/node-host/job-process'
import { tempDir } from '../helpers/temp'

const built = 'file:///opt/Leafseg/resources/app.asar/out/renderer/index.html'
const dev = 'http://localhost:5173'

test('only https links to a listed host open in the browser; the app lists none today', () => {
  const hosts = ['docs.example.org']
  assert.equal(mayOpenExternally('https://docs.example.org/guide#x', hosts), true)
  for (const url of [
    'http://docs.example.org/guide',
    'https://docs.example.org.evil.example/',
    'https://evil.example/?docs.example.org',
    'https://user:pw@docs.example.org/',
    'https://docs.example.org:8443/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'smb://docs.example.org/share',
    'not a url'
  ]) {
    assert.equal(mayOpenExternally(url, hosts), false, url)
  }
  assert.deepEqual(externalLinkHosts, [])
  assert.equal(mayOpenExternally('https://github.com/'), false)
})

test('a window navigates only within the app: the built renderer folder, or the dev server origin', () => {
  assert.equal(mayNavigate(built, built), true)
  assert.equal(mayNavigate('file:///opt/Leafseg/resources/app.asar/out/renderer/index.html#/runs', built), true)
  assert.equal(mayNavigate('file:///opt/Leafseg/resources/app.asar/out/renderer/gpu-worker.html', built), true, 'another page of the renderer')
  for (const url of [
    'file:///etc/passwd',
    'file:///opt/Leafseg/resources/app.asar/out/renderer/../../secret.html',
    'file://host/opt/Leafseg/resources/app.asar/out/renderer/index.html',
    'https://evil.example/',
    'leafseg-file://project/photos/x.png'
  ]) {
    assert.equal(mayNavigate(url, built), false, url)
  }
  assert.equal(mayNavigate('http://localhost:5173/#/datasets', dev), true)
  for (const url of ['http://localhost:51730/', 'http://localhost.evil.example:5173/', 'https://localhost:5173/', 'http://127.0.0.1:5173/']) {
    assert.equal(mayNavigate(url, dev), false, url)
  }
  assert.equal(mayNavigate('nonsense', built), false)
})

test("project files allow only the app's own origin to read their pixels", () => {
  assert.equal(fileProtocolCorsOrigin('file://', built), 'file://')
  assert.equal(fileProtocolCorsOrigin('null', built), 'null')
  assert.equal(fileProtocolCorsOrigin(null, built), null)
  assert.equal(fileProtocolCorsOrigin('https://evil.example', built), null)
  assert.equal(fileProtocolCorsOrigin('http://localhost:5173', dev), 'http://localhost:5173')
  assert.equal(fileProtocolCorsOrigin('null', dev), null)
  assert.equal(fileProtocolCorsOrigin('http://localhost:5174', dev), null)
})

test('only a path the host registered from a real drop becomes a chosen folder, once', () => {
  const chosen = new ChosenFolders()
  const dropped = tempDir()
  assert.equal(chosen.acceptDrop(dropped), false)
  chosen.registerDrop(dropped)
  assert.equal(chosen.acceptDrop(dropped), true)
  assert.equal(chosen.check(`${dropped}/photo.png`), `${dropped}/photo.png`)
  assert.equal(chosen.acceptDrop(dropped), false, 'a registration is used once')
})

test('in the desktop app files.dropped refuses a path the renderer names without a real drop', async () => {
  const s = new LeafsegService({ host: 'electron', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: false })
  const elsewhere = tempDir()
  const forged = await dispatch(s, 'files.dropped', { paths: [elsewhere] })
  assert.equal(!forged.ok && forged.error.code, 'forbidden')
  assert.throws(() => s.checkPath(elsewhere), /only use files inside the project or a folder you chose/)
  s.chosen.registerDrop(elsewhere) // what the IPC adapter does when the preload reports a real drop
  assert.deepEqual(await dispatch(s, 'files.dropped', { paths: [elsewhere] }), { ok: true, value: null })
  assert.equal(s.checkPath(elsewhere), elsewhere)
})
