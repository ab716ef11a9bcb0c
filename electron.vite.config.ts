import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // Loaded from node_modules at run time, never bundled: Dawn's index.js finds its dawn.node beside itself.
        external: ['webgpu'],
        // The window host, the job process (an Electron utilityProcess), the matting helper process
        // (Electron run as Node, for a second core) and the training worker threads are separate bundles; so is the command line, which the
        // installed app runs with its own Electron as Node (installer/leafseg).
        input: {
          index: resolve('src/main/index.ts'),
          'job-process': resolve('src/main/job-process-entry.ts'),
          'matte-process': resolve('src/main/core/matting/matte-process.ts'),
          // The data-parallel wasm engine's worker threads (worker-pool.ts).
          'engine-worker': resolve('src/main/core/model/engine-worker.ts'),
          // The WebGPU thread: tfjs on Dawn (webgpu-connector.ts).
          'webgpu-thread': resolve('src/main/core/model/webgpu-thread.ts'),
          // The labelling area's worker thread: assists and save decoding off the host's thread (labelling-thread.ts).
          'labelling-worker': resolve('src/main/core/labelling/labelling-worker.ts'),
          cli: resolve('src/cli/main.ts')
        }
      }
    }
  },
  preload: {
    // Sandboxed preload scripts must be CommonJS. The GPU worker window has its own, which only hands over a port.
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts'), 'gpu-worker': resolve('src/preload/gpu-worker.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    plugins: [svelte()],
    // The app's page, and the GPU worker page (tfjs on WebGL2 in a hidden window; see src/gpu-worker).
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html'), 'gpu-worker': resolve('src/renderer/gpu-worker.html') } } }
  }
})
