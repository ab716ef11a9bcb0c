// One API call to the web host over HTTP, as the benches that measure through it make them.
import { request } from 'node:http'
import type { WebHost } from '../src/web/server'

export /** POST one API call to the web host as a page or a script would (a connection of its own); the answer and its wall time. */
function callHost(host: WebHost, method: string, args: unknown): Promise<{ answer: { ok: boolean; value?: any; error?: { message: string } }; ms: number }> {
  const started = performance.now()
  const body = JSON.stringify(args)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(new URL(host.url).port),
        path: `/api/${method}`,
        method: 'POST',
        headers: { 'x-leafseg-token': host.token, 'content-type': 'application/json' },
        agent: false
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ answer: JSON.parse(Buffer.concat(chunks).toString('utf8')), ms: performance.now() - started }))
      }
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** The call's value; its error message (named by the method) as an exception. */
export async function callHostValue(host: WebHost, method: string, args: unknown): Promise<any> {
  const { answer } = await callHost(host, method, args)
  if (!answer.ok) throw new Error(`${method}: ${answer.error?.message}`)
  return answer.value
}
