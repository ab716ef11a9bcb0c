import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // The window host, the job process (an Electron utilityProcess) and the matting helper process
        // (Electron run as Node, for a second core) are separate bundles; so is the command line, which the
        // installed app runs with its own Electron as Node (installer/leafseg).
        input: {
          index: resolve('src/main/index.ts'),
          'job-process': resolve('src/main/job-process-entry.ts'),
          'matte-process': resolve('src/main/core/matting/matte-process.ts'),
          cli: resolve('src/cli/main.ts')
        }
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
