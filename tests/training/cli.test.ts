// `leafseg train` as a person runs it: a real process on a real project, per-epoch lines, --json, --resume.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LeafsegService } from '../../src/main/core/service/service'
import { inProcessJobs } from '../../src/node-host/job-process'
import { makePhotos } from './fixtures'
import { tempDir } from '../helpers/temp'

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
let projectDir: string

function leafseg(...args: string[]) {
  return leafsegWith({}, ...args)
}

function leafsegWith(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LEAFSEG_USER_DATA: tempDir(), ...env },
    timeout: 300_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

before(async () => {
  const dir = tempDir()
  const samples = await makePhotos(join(dir, 'photos'), 12, { width: 48, height: 40, seed: 7 })
  mkdirSync(join(dir, 'masks'))
  for (const s of samples) renameSync(s.maskPath, join(dir, 'masks', `${s.id}.png`))
  const service = new LeafsegService({ host: 'web', userDataDir: tempDir(), jobProcess: inProcessJobs, typedPathsAreChoices: true })
  projectDir = join(tempDir(), 'cli')
  await service.api['projects.create']({ dir: projectDir, name: 'CLI' })
  const dataset = await service.api['datasets.create']({ name: 'Leaves' })
  const wait = async (p: Promise<{ id: number }>) => service.requireProject().jobs.wait((await p).id)
  await wait(service.api['datasets.importPhotos']({ datasetId: dataset.id, paths: [join(dir, 'photos')] }))
  await wait(service.api['datasets.importMasks']({ datasetId: dataset.id, source: { kind: 'folder', dir: join(dir, 'masks') } }))
  await service.api['datasets.split']({ datasetId: dataset.id, ratio: [75, 25, 0], seed: 1 })
  service.dispose()
})

test('leafseg train prints every epoch and the run id; --resume continues it; --json sums up', () => {
  const tiny = ['--input-size', '32', '--filters', '4', '--depth', '2', '--batch', '4', '--lr', '0.003', '--seed', '2']
  const first = leafseg('train', '--project', projectDir, '--dataset', 'leaves', ...tiny, '--epochs', '2', '--name', 'cli run')
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /Training run (\d+) “cli run”: 9 training and 3 validation photos; 32 px, 4 base filters, depth 2/)
  assert.match(first.stdout, /epoch 1\/2 {2}train loss \d\.\d{3} acc \d\.\d{3} IoU \d\.\d{3} Dice \d\.\d{3} {2}\| {2}val loss/)
  assert.match(first.stdout, /epoch 2\/2/)
  assert.match(first.stdout, /Backend: wasm — CPU \(wasm, (one thread|\d+ workers)\)[^\n]*\n[^\n]*epoch 1\/2/, 'the backend is printed when training starts')
  const runId = /Training run (\d+)/.exec(first.stdout)![1]
  assert.match(first.stdout, new RegExp(`Run ${runId} finished after 2 epochs .* Checkpoints: runs/${runId}/best, runs/${runId}/last`))

  // Resumed on 2 worker threads: the run records them.
  const more = leafseg('train', '--project', projectDir, '--resume', runId, '--epochs', '3', '--backend', 'wasm', '--workers', '2', '--json')
  assert.equal(more.code, 0, more.stderr)
  const summary = JSON.parse(more.stdout) as {
    run: { id: number; epochsDone: number; status: string; device: string; epochs: { epoch: number }[]; config: { epochs: number; workers: number } }
  }
  assert.equal(summary.run.config.workers, 2)
  assert.equal(summary.run.device, 'CPU (wasm, 2 workers)')
  assert.equal(summary.run.id, Number(runId))
  assert.equal(summary.run.status, 'completed')
  assert.deepEqual(
    summary.run.epochs.map((e) => e.epoch),
    [1, 2, 3]
  )
  assert.equal(summary.run.config.epochs, 3)
})

test('leafseg train refuses bad options and datasets it cannot train on, with a message', () => {
  const preset = leafseg('train', '--project', projectDir, '--dataset', 'leaves', '--preset', 'huge')
  assert.equal(preset.code, 2)
  assert.match(preset.stderr, /--preset must be fast-cpu or leaves-cpu or seed/)
  const tooBig = leafseg('train', '--project', projectDir, '--dataset', 'leaves', '--preset', 'seed', '--batch', '64', '--json')
  assert.equal(tooBig.code, 1)
  assert.match(JSON.parse(tooBig.stdout).error.message, /would fit/)
})

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'

test(
  'leafseg train --backend webgpu trains a run end to end (Dawn on SwiftShader here: software, never called a GPU)',
  { skip: existsSync(SWIFTSHADER_ICD) ? false : `no software Vulkan driver to run WebGPU on (${SWIFTSHADER_ICD} is absent: install chromium)` },
  () => {
    const tiny = ['--input-size', '32', '--filters', '4', '--depth', '2', '--batch', '4', '--epochs', '2', '--seed', '2']
    const env = { VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: '/tmp' }
    const trained = leafsegWith(env, 'train', '--project', projectDir, '--dataset', 'leaves', ...tiny, '--backend', 'webgpu', '--json')
    assert.equal(trained.code, 0, trained.stderr)
    const { run } = JSON.parse(trained.stdout) as {
      run: { backend: string; device: string; renderer: string | null; status: string; epochs: { epoch: number; train: { loss: number } }[] }
    }
    assert.equal(run.backend, 'webgpu')
    assert.equal(run.status, 'completed')
    assert.match(run.device, /^CPU through a software adapter \(WebGPU on google swiftshader .*\): not a GPU$/)
    assert.match(run.renderer ?? '', /^google swiftshader .*SwiftShader/)
    assert.deepEqual(
      run.epochs.map((e) => e.epoch),
      [1, 2]
    )
    assert.ok(run.epochs.every((e) => Number.isFinite(e.train.loss) && e.train.loss > 0))
  }
)

test("leafseg train --backend: webgl is the desktop app's, with the reason; webgpu is offered; an unknown one is named", () => {
  const gpu = leafseg('train', '--project', projectDir, '--dataset', 'leaves', '--backend', 'webgl')
  assert.notEqual(gpu.code, 0)
  assert.match(gpu.stderr, /--backend webgl trains in the desktop app only: its GPU worker runs in the app's Chromium, and the command line has none/)
  const unknown = leafseg('train', '--project', projectDir, '--dataset', 'leaves', '--backend', 'cuda')
  assert.notEqual(unknown.code, 0)
  assert.match(unknown.stderr, /--backend must be auto, webgpu, tensorflow, wasm or cpu \(webgl in the desktop app\), not “cuda”/)
  const help = leafseg('train', '--help')
  assert.match(help.stdout + help.stderr, /webgpu \(any GPU without CUDA, through Dawn: Vulkan, Metal or D3D12\)/)
})
