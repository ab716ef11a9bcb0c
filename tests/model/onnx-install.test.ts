// `npm ci` offline with onnxruntime-node: its install script downloads CUDA binaries unless told to skip, and an
// optional dependency whose script fails is silently left out. The project's .npmrc tells it to skip.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'script', 'install.js')
// No network: any download goes to a closed port and fails at once.
const offline: NodeJS.ProcessEnv = {
  ...process.env,
  GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9',
  GLOBAL_AGENT_HTTP_PROXY: 'http://127.0.0.1:9',
  ONNXRUNTIME_NODE_INSTALL: ''
}

test('npm reads onnxruntime-node-install=skip from the project’s .npmrc', () => {
  const npm = spawnSync('npm', ['config', 'get', 'onnxruntime-node-install'], { cwd: root, encoding: 'utf8' })
  assert.equal(npm.status, 0, npm.stderr)
  assert.equal(npm.stdout.trim(), 'skip')
})

test(
  'with it, onnxruntime-node’s install script downloads nothing and succeeds offline',
  { skip: process.platform !== 'linux' && 'the CUDA download is attempted on Linux' },
  () => {
    const skipped = spawnSync(process.execPath, [script], {
      cwd: dirname(dirname(script)),
      env: { ...offline, npm_config_onnxruntime_node_install: 'skip' },
      encoding: 'utf8',
      timeout: 60_000
    })
    assert.equal(skipped.status, 0, skipped.stderr)
  }
)
