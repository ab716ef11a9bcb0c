// Lint: the layers (which folder may import which) and the line length, checked while editing and in `npm test`.
// Deliberately small: the compiler and svelte-check do the type checks; this holds the architecture.
import tseslint from 'typescript-eslint'
import svelte from 'eslint-plugin-svelte'
import stylistic from '@stylistic/eslint-plugin'
import boundaries from 'eslint-plugin-boundaries'

/** The layers, from the bottom up: each may import the ones its rule below allows, nothing else. */
const elements = [
  { type: 'shared', pattern: 'src/shared' },
  // Core libraries the steps build on; a library imports no step. ('full': these patterns name files, not folders.)
  { type: 'core-library', pattern: 'src/main/core/{model,imaging,store,jobs}' },
  { type: 'core-library', pattern: 'src/main/core/{project,recent}.ts', mode: 'full' },
  // The pipeline steps, one folder each.
  { type: 'core-step', pattern: 'src/main/core/{datasets,matting,training,evaluation,prediction,labelling}' },
  // What composes the steps: the API's implementation and the job registry.
  { type: 'core-service', pattern: 'src/main/core/service' },
  { type: 'core-service', pattern: 'src/main/core/job-handlers.ts', mode: 'full' },
  // Hosts: each wraps the core; none holds domain logic.
  { type: 'node-host', pattern: 'src/node-host' },
  { type: 'electron-host', pattern: 'src/main/*.ts', mode: 'full' },
  { type: 'web-host', pattern: 'src/web' },
  { type: 'cli', pattern: 'src/cli' },
  { type: 'preload', pattern: 'src/preload' },
  { type: 'renderer', pattern: 'src/renderer' },
  { type: 'gpu-worker', pattern: 'src/gpu-worker' }
]

const may = (from, ...to) => ({ from: { element: { type: from } }, allow: { to: { element: { type: to } } } })

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'bench-results/**', 'installer/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.svelte'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    // The typescript-eslint plugin is registered (no rule of it on) so that disable comments naming its rules resolve.
    plugins: { '@stylistic': stylistic, '@typescript-eslint': tseslint.plugin },
    rules: {
      // Prettier wraps code at 160; what it cannot wrap (a long comment) is caught here. Strings stay whole: a message is
      // easier to find in the source when it is not cut in pieces.
      '@stylistic/max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true }]
    }
  },
  ...svelte.configs['flat/base'],
  { files: ['**/*.svelte', '**/*.svelte.ts'], languageOptions: { parserOptions: { parser: tseslint.parser } } },
  // In Svelte markup Prettier's text fill now and then leaves a line a few columns over; Prettier owns those files' layout.
  { files: ['**/*.svelte'], rules: { '@stylistic/max-len': 'off' } },
  {
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*'],
      'import/resolver': { node: { extensions: ['.ts', '.js', '.svelte'] } }
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: '{{from.element.type}} may not import {{to.element.type}}: see the layers in README.md (Where things live)',
          policies: [
            may('shared', 'shared'),
            may('core-library', 'shared', 'core-library'),
            may('core-step', 'shared', 'core-library', 'core-step'),
            may('core-service', 'shared', 'core-library', 'core-step', 'core-service'),
            may('node-host', 'shared', 'core-library', 'core-step', 'core-service', 'node-host'),
            may('electron-host', 'shared', 'core-library', 'core-step', 'core-service', 'electron-host'),
            may('web-host', 'shared', 'core-library', 'core-service', 'web-host'),
            may('cli', 'shared', 'node-host', 'web-host', 'cli'),
            may('preload', 'shared', 'preload'),
            may('renderer', 'shared', 'renderer'),
            // The GPU worker page shares the network files with the job process (browser-safe: see tests/core/layers.test.ts).
            may('gpu-worker', 'shared', 'core-library', 'gpu-worker')
          ]
        }
      ]
    }
  }
)
