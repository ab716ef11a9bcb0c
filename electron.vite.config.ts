import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // The window host and the job process (an Electron utilityProcess) are separate bundles.
        input: { index: resolve('src/main/index.ts'), 'job-process': resolve('src/main/job-process-entry.ts') }
      }
    }
  },
  preload: {
    // Sandboxed preload scripts must be CommonJS.
    build: { rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } } }
  },
  renderer: {
    plugins: [svelte()]
  }
})
