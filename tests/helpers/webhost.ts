// Start the real web host over the real core, for HTTP and browser tests.
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { LeafsegService } from '../../src/main/core/service/service'
import { forkJobProcess } from '../../src/node-host/job-process'
import { startWebHost, type WebHost } from '../../src/web/server'
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { JobInfo } from '../../src/shared/api/jobs'
import type { Browser, Page } from 'playwright-core'
import { tempDir } from './temp'
import { browserMissing, launchBrowser } from './browser'

export const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url))

export async function startTestHost(
  options: { maxUploadBytes?: number } = {}
): Promise<{ host: WebHost; service: LeafsegService; userData: string; stop(): Promise<void> }> {
  if (!existsSync(rendererDir)) throw new Error(`The renderer is not built (${rendererDir}): run \`npx electron-vite build\` first (npm test does).`)
  const userData = tempDir('leafseg-userdata-')
  const service = new LeafsegService({ host: 'web', userDataDir: userData, jobProcess: forkJobProcess, typedPathsAreChoices: true, demoJob: true })
  const host = await startWebHost({ service, staticDir: rendererDir, ...options })
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

export interface HttpAnswer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

/** One raw HTTP request to the web host (headers exactly as given: no token unless the test adds one). */
export function hostRequest(
  host: WebHost,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}
): Promise<HttpAnswer> {
  const port = Number(new URL(host.url).port)
  return new Promise((resolve, reject) => {
    // A connection of its own (no keep-alive pool): a pooled socket the host closed while idle would fail the next request.
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Call an API method the way the page does (token in its header); returns the `{ ok, value | error }` answer. */
export async function callApi(
  host: WebHost,
  method: string,
  args: unknown = {}
): Promise<{ ok: boolean; value?: any; error?: { code: string; message: string } }> {
  const res = await hostRequest(host, `/api/${method}`, {
    method: 'POST',
    headers: { 'x-leafseg-token': host.token, 'content-type': 'application/json' },
    body: JSON.stringify(args)
  })
  return JSON.parse(res.body)
}

/**
 * For an end-to-end test file: the web host over the real core and a Chromium page, started before its tests
 * and stopped after. `skip` says why when Chromium is missing.
 */
export function browserHost(viewport = { width: 1280, height: 820 }, options: { showScrollbars?: boolean } = {}) {
  const skip = browserMissing() ?? false
  const state = {} as { t: Awaited<ReturnType<typeof startTestHost>>; browser: Browser; page: Page }
  before(async () => {
    if (skip) return
    state.t = await startTestHost()
    state.browser = await launchBrowser(options)
    state.page = await state.browser.newPage({ viewport })
  })
  after(async () => {
    if (skip) return
    await state.browser.close()
    await state.t.stop()
  })
  return { skip, state }
}

/** Wait for a job of the service's open project to end, and require that it succeeded. */
export async function succeeded(service: LeafsegService, job: JobInfo): Promise<JobInfo> {
  const done = await service.requireProject().jobs.wait(job.id)
  assert.equal(done.status, 'succeeded', `${done.title}: ${done.error ?? done.status}`)
  return done
}
