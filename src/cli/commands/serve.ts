import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import type { Command } from '../command'
import { UsageError, optionalNumber } from '../command'

const staticDir = fileURLToPath(new URL('../../../out/renderer', import.meta.url))

export const serve: Command = {
  name: 'serve',
  summary: 'Serve the Leafseg UI to a browser on this machine (127.0.0.1 only)',
  usage: 'leafseg serve [--project DIR] [--port N]',
  options: { project: { type: 'string' }, port: { type: 'string' } },
  flags: { 'projects.open': { dir: '--project' } },
  help: [
    '--project DIR  open this project at start',
    '--port N       the port (default: a free one)',
    'Prints a URL with a secret token; requests without it are refused. From another machine,',
    'forward the port over SSH (ssh -L N:127.0.0.1:N server) and open the URL locally.'
  ],
  async run({ values, json }) {
    if (!existsSync(staticDir)) throw new UsageError(`The UI is not built (${staticDir} is missing): run \`npx electron-vite build\` first.`)
    const port = optionalNumber(values, 'port')
    const { startSession } = await import('../../node-host/session')
    const { startWebHost } = await import('../../web/server')
    const session = startSession('web')
    try {
      if (typeof values.project === 'string') await session.client.call('projects.open', { dir: values.project })
      const host = await startWebHost({ service: session.service, staticDir, port })
      if (json) console.log(JSON.stringify({ url: host.url }))
      else console.log(`Leafseg is served at ${host.url}\nPress Ctrl-C to stop.`)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      await host.close()
    } finally {
      session.dispose()
    }
    return null
  }
}
