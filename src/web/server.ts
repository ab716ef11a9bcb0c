// The web host: the built renderer and the same API over HTTP + server-sent events, on loopback only,
// behind a per-session token. For end-to-end tests here and for a lab's GPU server reached over SSH.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { dirname, extname, join, normalize, sep } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { LeafsegService } from '../main/core/service/service'
import { dispatch, toApiError } from '../main/core/service/dispatch'
import { displayFile } from '../main/core/imaging/display'

export interface WebHost {
  url: string
  token: string
  close(): Promise<void>
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2'
}

const maxBodyBytes = 1 << 20
const cookieName = 'leafseg_token'

function tokenFrom(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7)
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${cookieName}=`))
  if (cookie) return cookie.slice(cookieName.length + 1)
  return url.searchParams.get('token')
}

function sameToken(a: string | null, b: string): boolean {
  if (!a) return false
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBodyBytes) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

export async function startWebHost(options: {
  service: LeafsegService
  /** The built renderer (out/renderer). */
  staticDir: string
  port?: number
}): Promise<WebHost> {
  const { service, staticDir } = options
  const token = randomBytes(24).toString('base64url')
  let port = 0

  async function serveStatic(res: ServerResponse, pathname: string): Promise<void> {
    const rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^[/\\]+/, '')
    const file = join(staticDir, rel)
    if (!file.startsWith(staticDir + sep)) return send(res, 404, { error: 'not found' })
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file')
      res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' })
      res.end(await readFile(file))
    } catch {
      send(res, 404, { error: `not found: ${pathname}` })
    }
  }

  async function serveProjectFile(res: ServerResponse, relativePath: string): Promise<void> {
    let file: string
    try {
      file = service.projectFile(relativePath)
    } catch (err) {
      return send(res, 403, toApiError(err))
    }
    try {
      const { body, contentType } = await displayFile(file)
      res.writeHead(200, { 'content-type': contentType, 'content-length': body.length, 'cache-control': 'no-cache' })
      res.end(body)
    } catch {
      send(res, 404, { code: 'not_found', message: `${relativePath} is missing from the project.` })
    }
  }

  // A file dropped in the browser: its bytes land in the project's uploads folder (temp name, then rename).
  async function receiveUpload(req: IncomingMessage, res: ServerResponse, batch: string, relativePath: string): Promise<void> {
    let target: { dir: string; file: string }
    try {
      target = service.uploadTarget(batch, relativePath)
    } catch (err) {
      return send(res, 403, toApiError(err))
    }
    const tmp = `${target.file}.${process.pid}.upload`
    try {
      await mkdir(dirname(target.file), { recursive: true })
      await pipeline(req, createWriteStream(tmp))
      await rename(tmp, target.file)
      send(res, 200, { ok: true, value: { dir: target.dir } })
    } catch (err) {
      await unlink(tmp).catch(() => {})
      send(res, 500, { ok: false, error: toApiError(err) })
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      // Only loopback names: a page on another site cannot reach us through DNS rebinding.
      const hostHeader = req.headers.host ?? ''
      if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}`) return send(res, 403, { error: 'bad host' })
      if (!sameToken(tokenFrom(req, url), token)) return send(res, 401, { error: 'This Leafseg session needs its token: open the URL that `leafseg serve` printed.' })
      // First visit carries ?token=; a cookie then authenticates the page's own requests (scripts, SSE).
      if (url.searchParams.has('token')) {
        res.setHeader('set-cookie', `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`)
      }

      if (url.pathname === '/api/events' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
        res.write(': connected\n\n')
        const unsubscribe = service.events.subscribe((event, payload) => {
          res.write(`data: ${JSON.stringify({ event, payload })}\n\n`)
        })
        const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
        req.on('close', () => {
          clearInterval(keepAlive)
          unsubscribe()
        })
        return
      }
      if (url.pathname.startsWith('/files/') && req.method === 'GET') {
        return serveProjectFile(res, decodeURIComponent(url.pathname.slice('/files/'.length)))
      }
      if (url.pathname === '/upload' && req.method === 'PUT') {
        return receiveUpload(req, res, url.searchParams.get('batch') ?? '', url.searchParams.get('path') ?? '')
      }
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return send(res, 405, { error: 'use POST' })
        let args: unknown
        try {
          args = await readBody(req)
        } catch (err) {
          return send(res, 400, { ok: false, error: { code: 'invalid_argument', message: `Bad request body: ${(err as Error).message}` } })
        }
        const result = await dispatch(service, decodeURIComponent(url.pathname.slice(5)), args)
        return send(res, 200, result)
      }
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' })
      return serveStatic(res, url.pathname)
    } catch (err) {
      send(res, 500, { error: (err as Error).message })
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
