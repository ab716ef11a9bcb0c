// Start the real web host over the real core, for HTTP and browser tests.
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { LeafsegService } from '../../src/main/core/service/service'
import { forkJobProcess } from '../../src/main/core/jobs/node-process'
import { startWebHost, type WebHost } from '../../src/web/server'
import { tempDir } from './temp'

export const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url))

export async function startTestHost(): Promise<{ host: WebHost; service: LeafsegService; userData: string; stop(): Promise<void> }> {
  if (!existsSync(rendererDir)) throw new Error(`The renderer is not built (${rendererDir}): run \`npx electron-vite build\` first (npm test does).`)
  const userData = tempDir('leafseg-userdata-')
  const service = new LeafsegService({ host: 'web', userDataDir: userData, jobProcess: forkJobProcess, typedPathsAreChoices: true })
  const host = await startWebHost({ service, staticDir: rendererDir })
  return {
    host,
    service,
    userData,
    async stop() {
      await host.close()
      service.dispose()
    }
  }
}
