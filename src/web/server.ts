// The web host: the built renderer and the same API over HTTP + server-sent events, on loopback only,
// behind a per-session token. For end-to-end tests here and for a lab's GPU server reached over SSH.
//
// What lets a request in: the Host header names loopback (no DNS rebinding); a state-changing request
// carries no Origin or our own (cookies are shared by every port of 127.0.0.1, so any local page can
// send them); API calls and uploads carry the token in a header, which a page of another origin cannot
// set without a CORS preflight we never answer; the cookie (set from the printed URL) only loads the
// page, its assets and project files, and the page learns the token from a meta tag in index.html.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createReadStream, createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { LeafsegService } from '../main/core/service/service'
import { dispatch, toApiError } from '../main/core/service/dispatch'
import { browserImageType, displayFile } from '../main/core/imaging/display'
import { decodedUrlPart } from '../main/core/service/paths'
import { formatBytes } from '../shared/format'
import { writeAtomic } from '../main/core/store/atomic'

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

// A mask travels as RLE: a detailed mask of a 4000×3000 photo is a few megabytes of JSON.
const maxBodyBytes = 32 << 20
/** Largest file a browser may upload: above any leaf photo a camera takes; bigger ones are imported from the disk. */
export const maxUploadBytes = 250_000_000
const cookieName = 'leafseg_token'
/** The header API calls carry the token in (`Authorization: Bearer …` works too, for scripts). */
const tokenHeader = 'x-leafseg-token'

function headerToken(req: IncomingMessage): string | null {
  const own = req.headers[tokenHeader]
  if (typeof own === 'string') return own
  const auth = req.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice(7) : null
}

function cookieToken(req: IncomingMessage): string | null {
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${cookieName}=`))
  return cookie ? cookie.slice(cookieName.length + 1) : null
}

// Served instead of JSON to a browser that opened an address of ours without the token (a page, or an API URL).
const needsTokenPage = (port: number) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leafseg: open it with its address</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 38em; margin: 4em auto; padding: 0 1em">
<h1>Open Leafseg with its address</h1>
<p>This Leafseg session opens only from the address that <code>leafseg serve</code> printed when it started:
<code>http://127.0.0.1:${port}/?token=…</code>. Copy that whole address, token included, into the browser.</p>
<p>Lost it? Stop <code>leafseg serve</code> (Ctrl-C) and start it again (<code>npx leafseg serve --project FOLDER</code>):
it prints a new address.</p>
</body></html>
`

/** A browser opening the address (not the page's own script, which asks for JSON). */
const wantsHtml = (req: IncomingMessage) => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')

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

class UploadTooLarge extends Error {}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

function statusFor(code: string): number {
  if (code === 'not_found' || code === 'no_project_open') return 404
  if (code === 'conflict') return 409
  return code === 'forbidden' ? 403 : code === 'invalid_argument' ? 400 : 500
}

export async function startWebHost(options: {
  service: LeafsegService
  /** The built renderer (out/renderer). */
  staticDir: string
  port?: number
  /** Largest upload accepted (default maxUploadBytes). */
  maxUploadBytes?: number
}): Promise<WebHost> {
  const { service, staticDir } = options
  const token = randomBytes(24).toString('base64url')
  let port = 0

  async function serveStatic(res: ServerResponse, pathname: string): Promise<void> {
    const path = decodedUrlPart(pathname === '/' ? '/index.html' : pathname)
    if (path === null) return send(res, 400, { error: `bad percent-encoding in ${pathname}` })
    const file = join(staticDir, normalize(path).replace(/^[/\\]+/, ''))
    if (!file.startsWith(staticDir + sep)) return send(res, 404, { error: 'not found' })
    let body: Buffer
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file')
      body = await readFile(file)
    } catch {
      return send(res, 404, { error: `not found: ${pathname}` })
    }
    if (file === join(staticDir, 'index.html')) {
      // The page's script reads the token from here and sends it with every API call.
      body = Buffer.from(body.toString('utf8').replace('<head>', `<head>\n    <meta name="leafseg-token" content="${token}" />`))
      res.setHeader('cache-control', 'no-store')
    }
    res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' })
    res.end(body)
  }

  async function serveProjectFile(res: ServerResponse, relativePath: string): Promise<void> {
    let file: string
    try {
      file = service.projectFile(relativePath)
    } catch (err) {
      const error = toApiError(err)
      return send(res, statusFor(error.code), error)
    }
    const type = browserImageType(file)
    try {
      if (!type) {
        // A TIFF photo, converted for the browser (its size was bounded when it was imported).
        const { body, contentType } = await displayFile(file)
        res.writeHead(200, { 'content-type': contentType, 'content-length': body.length, 'cache-control': 'no-cache' })
        res.end(body)
        return
      }
      // Streamed: many requests for a large file must not each hold it in memory.
      const size = (await stat(file)).size
      res.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': 'no-cache' })
      await pipeline(createReadStream(file), res)
    } catch {
      if (res.headersSent) res.destroy()
      else send(res, 404, { code: 'not_found', message: `${relativePath} is missing from the project.` })
    }
  }

  const uploadLimit = options.maxUploadBytes ?? maxUploadBytes
  const tooLarge = (req: IncomingMessage, res: ServerResponse, relativePath: string): void => {
    // The rest of the body is read and dropped for a moment, so that the client gets the answer (closing a socket
    // with unread data resets it, answer and all: so no 'connection: close'); then the connection is dropped,
    // however much more was coming.
    req.unpipe()
    req.resume()
    res.on('finish', () => setTimeout(() => req.destroy(), 1000).unref())
    send(res, 413, {
      ok: false,
      error: {
        code: 'bad_input',
        message: `${relativePath} is larger than ${formatBytes(uploadLimit)}, the most a browser may upload; import it from the server's disk instead (Browse…).`
      }
    })
  }

  // A file dropped in the browser: its bytes land in the project's uploads folder, atomically.
  async function receiveUpload(req: IncomingMessage, res: ServerResponse, batch: string, relativePath: string): Promise<void> {
    let target: { dir: string; file: string }
    try {
      target = service.uploadTarget(batch, relativePath)
    } catch (err) {
      const error = toApiError(err)
      return send(res, statusFor(error.code), { ok: false, error })
    }
    if (Number(req.headers['content-length'] ?? 0) > uploadLimit) return tooLarge(req, res, relativePath)
    let received = 0
    const capped = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length
        done(received > uploadLimit ? new UploadTooLarge() : null, chunk)
      }
    })
    req.once('error', (err) => capped.destroy(err)) // a client that goes away ends the write
    try {
      // 'wx' creates a new file and fails on anything already there, a planted symlink included.
      // req is piped, not part of the pipeline: an upload too large leaves it open for the 413 answer.
      await writeAtomic(target.file, (tmp) => pipeline(req.pipe(capped), createWriteStream(tmp, { flags: 'wx' })))
      send(res, 200, { ok: true, value: { dir: target.dir } })
    } catch (err) {
      if ((err as Error).cause instanceof UploadTooLarge) tooLarge(req, res, relativePath)
      else send(res, 500, { ok: false, error: toApiError(err) })
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      // No page may frame ours, and the token in the address is never sent on as a referrer.
      res.setHeader('x-frame-options', 'DENY')
      res.setHeader('x-content-type-options', 'nosniff')
      res.setHeader('referrer-policy', 'no-referrer')
      // Only loopback names: a page on another site cannot reach us through DNS rebinding.
      const hostHeader = req.headers.host ?? ''
      if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}`) return send(res, 403, { error: 'bad host' })
      // Cookies do not tell ports apart, so a page on another port of 127.0.0.1 sends ours along:
      // anything that changes state must come from our own page (or from no page at all: a script).
      const origin = req.headers.origin
      if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined && origin !== `http://${hostHeader}`) {
        return send(res, 403, { error: `requests from ${origin} are not accepted` })
      }

      const api = url.pathname.startsWith('/api/') || url.pathname === '/upload'
      if (api) {
        // The event stream: EventSource cannot set headers, so the page puts the token in the query.
        // The stream only reads, it is same-origin, and no-referrer keeps the URL from leaking; a
        // short-lived ticket would add a round trip and server state for no gain.
        const given = headerToken(req) ?? (url.pathname === '/api/events' ? url.searchParams.get('token') : null)
        if (!sameToken(given, token)) {
          if (wantsHtml(req)) {
            res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
            return res.end(needsTokenPage(port))
          }
          return send(res, 401, {
            ok: false,
            error: {
              code: 'forbidden',
              message: `This Leafseg session needs its token in the ${tokenHeader} header: open the URL that \`leafseg serve\` printed.`
            }
          })
        }
      } else {
        const query = url.searchParams.get('token')
        if (!sameToken(headerToken(req) ?? cookieToken(req) ?? query, token)) {
          res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          return res.end(needsTokenPage(port))
        }
        // First visit carries ?token=; a cookie then loads the page's assets and project files.
        if (query !== null) res.setHeader('set-cookie', `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`)
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
        const relativePath = decodedUrlPart(url.pathname.slice('/files/'.length))
        if (relativePath === null) return send(res, 400, { code: 'invalid_argument', message: `Bad percent-encoding in ${url.pathname}.` })
        return serveProjectFile(res, relativePath)
      }
      if (url.pathname === '/upload' && req.method === 'PUT') {
        return receiveUpload(req, res, url.searchParams.get('batch') ?? '', url.searchParams.get('path') ?? '')
      }
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return send(res, 405, { error: 'use POST' })
        const method = decodedUrlPart(url.pathname.slice(5))
        if (method === null) return send(res, 400, { ok: false, error: { code: 'invalid_argument', message: `Bad percent-encoding in ${url.pathname}.` } })
        let args: unknown
        try {
          args = await readBody(req)
        } catch (err) {
          return send(res, 400, { ok: false, error: { code: 'invalid_argument', message: `Bad request body: ${(err as Error).message}` } })
        }
        const answer = await dispatch(service, method, args)
        // a save refused because another got in first (or a busy database): 409, so scripts can tell and retry
        return send(res, !answer.ok && answer.error.code === 'conflict' ? 409 : 200, answer)
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
