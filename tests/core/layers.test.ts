// The layers stay honest: each folder may import only the layers below it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : /\.(ts|svelte)$/.test(name) ? [p] : []
  })
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2])
}

/** Core modules the GPU worker page imports: one network definition for every backend, and one engine server. */
const browserSafe = ['main/core/model/engine', 'main/core/model/engine-server', 'main/core/model/unet', 'main/core/model/unet-size']

/** For each layer: the folders (relative to src/) it may import from, and whether packages are allowed. */
const rules: { layer: string; mayImport: string[]; packages: (name: string) => boolean }[] = [
  { layer: 'shared', mayImport: ['shared'], packages: () => false },
  { layer: 'main/core', mayImport: ['shared', 'main/core'], packages: (n) => n !== 'electron' },
  { layer: 'preload', mayImport: ['shared', 'preload'], packages: (n) => n === 'electron' },
  { layer: 'renderer', mayImport: ['shared', 'renderer'], packages: (n) => n === 'svelte' || n.startsWith('svelte/') || n === 'uplot' },
  // The Node host (CLI and web host): a session and a job process over the core, no Electron.
  { layer: 'node-host', mayImport: ['shared', 'main/core', 'node-host'], packages: (n) => n !== 'electron' },
  // The command line is an ordinary client: it may import only what starts a session, not the core.
  { layer: 'cli', mayImport: ['shared', 'node-host/session', 'cli', 'web'], packages: (n) => n !== 'electron' },
  { layer: 'web', mayImport: ['shared', 'main/core', 'web'], packages: (n) => n !== 'electron' },
  // The GPU worker page runs in a browser: tfjs, the protocol, and the core's browser-safe network and server files only.
  {
    layer: 'gpu-worker',
    mayImport: ['shared', 'gpu-worker', ...browserSafe],
    packages: (n) => n === '@tensorflow/tfjs'
  }
]

test('the network files the GPU worker page shares with the job process are browser-safe: tfjs and each other only', () => {
  const problems: string[] = []
  for (const module of browserSafe) {
    const file = join(root, 'src', `${module}.ts`)
    for (const spec of imports(file)) {
      const target = spec.startsWith('.') ? relative(join(root, 'src'), resolve(dirname(file), spec)) : spec
      if (spec === '@tensorflow/tfjs' || browserSafe.includes(target) || target.startsWith('shared/')) continue
      problems.push(`${module} imports ${target}`)
    }
  }
  assert.deepEqual(problems, [])
})

for (const rule of rules) {
  test(`src/${rule.layer} imports only what its layer may`, () => {
    const problems: string[] = []
    for (const file of files(join(root, 'src', rule.layer))) {
      for (const spec of imports(file)) {
        if (spec.startsWith('node:')) {
          if (rule.layer === 'shared' || rule.layer === 'renderer') problems.push(`${relative(root, file)} imports ${spec}`)
          continue
        }
        if (spec.startsWith('.')) {
          const target = relative(join(root, 'src'), resolve(dirname(file), spec))
          if (!rule.mayImport.some((layer) => target === layer || target.startsWith(`${layer}/`)) && !target.endsWith('.css')) {
            problems.push(`${relative(root, file)} imports ${target}`)
          }
          continue
        }
        if (!rule.packages(spec)) problems.push(`${relative(root, file)} imports package ${spec}`)
      }
    }
    assert.deepEqual(problems, [])
  })
}

test('src/main (the Electron host) holds no domain logic: only the window, GPU worker window, IPC, job process and security guard files', () => {
  const hostFiles = readdirSync(join(root, 'src/main'))
    .filter((f) => f !== 'core')
    .sort()
  assert.deepEqual(hostFiles, ['gpu-window.ts', 'index.ts', 'ipc.ts', 'job-process-entry.ts', 'job-process.ts', 'security.ts'])
})

/** The project-relative import targets of every file under a folder of src/main/core. */
function coreImports(folder: string): { file: string; target: string }[] {
  const dir = join(root, 'src/main/core', folder)
  return files(dir).flatMap((file) =>
    imports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({ file: relative(root, file), target: relative(join(root, 'src/main/core'), resolve(dirname(file), spec)) }))
  )
}

const steps = ['datasets', 'matting', 'training', 'evaluation', 'prediction', 'labelling']
const libraries = ['model', 'imaging', 'store', 'jobs']

test('jobs/ runs whatever handlers it is given: it imports no step folder and not the registry', () => {
  const upward = coreImports('jobs').filter(({ target }) => steps.some((s) => target === s || target.startsWith(`${s}/`)) || target.startsWith('job-'))
  assert.deepEqual(upward, [])
})

test('no step folder imports the job registry that composes them', () => {
  const problems = [...steps, ...libraries, 'service'].flatMap((folder) => coreImports(folder).filter(({ target }) => target === 'job-handlers'))
  assert.deepEqual(problems, [])
})

test('no library (model, imaging, store, jobs) imports a pipeline step or the service', () => {
  const upward = libraries.flatMap((folder) =>
    coreImports(folder).filter(({ target }) => [...steps, 'service'].some((s) => target === s || target.startsWith(`${s}/`)))
  )
  assert.deepEqual(upward, [])
})

test('src/main/core holds no host code: no session, no job process entry', () => {
  const rootFiles = readdirSync(join(root, 'src/main/core'))
    .filter((f) => f.endsWith('.ts'))
    .sort()
  assert.deepEqual(rootFiles, ['job-handlers.ts', 'project.ts', 'recent.ts'])
})

/** Every import between files of src, as a graph from each file to the files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of files(join(root, 'src'))) {
    const targets = imports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec))
      .flatMap((t) => [t, `${t}.ts`, `${t}/index.ts`].filter((c) => /\.(ts|svelte)$/.test(c) && existsSync(c) && statSync(c).isFile()).slice(0, 1))
    graph.set(file, targets)
  }
  return graph
}

test('no import cycles anywhere in src (type-only imports included)', () => {
  const graph = importGraph()
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]) => {
    state.set(file, 'open')
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(join(root, 'src'), f)).join(' → '))
      else if (!state.has(next)) visit(next, [...path, next])
    }
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file])
  assert.deepEqual(cycles, [])
})

test("src/cli imports only the Node host's session, not the core", () => {
  const fromCore = files(join(root, 'src/cli')).flatMap((file) =>
    imports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(join(root, 'src'), resolve(dirname(file), spec)))
      .filter((target) => target.startsWith('main/') || target.startsWith('node-host/'))
  )
  assert.ok(fromCore.length > 0, 'the CLI starts a session')
  assert.deepEqual([...new Set(fromCore)], ['node-host/session'])
})

test('the linter holds the layers while editing: a library that imports a step is refused by ESLint', async () => {
  const { ESLint } = await import('eslint')
  const eslint = new ESLint({ cwd: root })
  const filePath = join(root, 'src/main/core/model/layer-probe.ts')
  const [result] = await eslint.lintText("import { runWorkers } from '../training/config'\nexport const probe = runWorkers\n", { filePath })
  const layerErrors = result.messages.filter((m) => m.ruleId === 'boundaries/dependencies')
  assert.equal(layerErrors.length, 1, JSON.stringify(result.messages))
  assert.match(layerErrors[0].message, /core-library may not import core-step/)
  // The same import from a step is allowed: the rule refuses the direction, not the import.
  const [fromStep] = await eslint.lintText("import { runWorkers } from '../training/config'\nexport const probe = runWorkers\n", {
    filePath: join(root, 'src/main/core/prediction/layer-probe.ts')
  })
  assert.deepEqual(
    fromStep.messages.filter((m) => m.ruleId === 'boundaries/dependencies'),
    []
  )
})
