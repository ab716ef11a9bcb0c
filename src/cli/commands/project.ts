import type { Command } from '../command'
import { UsageError, requireString } from '../command'
import { withSession } from '../session'
import { formatBytes } from '../../shared/format'

export const projectCreate: Command = {
  name: 'project create',
  summary: 'Make a new project in a folder',
  usage: 'leafseg project create DIR --name NAME [--json]',
  options: { name: { type: 'string' } },
  flags: { 'projects.create': { dir: 'DIR', name: '--name' } },
  help: ['DIR          the project folder (made if missing)', '--name NAME  the project name people see'],
  async run({ values, positionals, json }) {
    const dir = positionals[0]
    if (!dir) throw new UsageError('Give the project folder: leafseg project create DIR --name NAME')
    const name = requireString(values, 'name')
    return withSession(json, async (cli) => {
      const info = await cli.call('projects.create', { dir, name })
      if (!json) console.log(`Created project “${info.name}” in ${info.dir}`)
      return { project: info }
    })
  }
}

export const projectInfo: Command = {
  name: 'project info',
  summary: 'Show a project: name, schema, jobs',
  usage: 'leafseg project info DIR [--json]',
  options: {},
  flags: { 'projects.open': { dir: 'DIR' } },
  help: ['DIR  the project folder'],
  async run({ positionals, json }) {
    const dir = positionals[0]
    if (!dir) throw new UsageError('Give the project folder: leafseg project info DIR')
    return withSession(json, async (cli) => {
      const info = await cli.call('projects.open', { dir })
      const jobs = await cli.call('jobs.list', {})
      if (!json) {
        console.log(`Project “${info.name}”\n  folder:  ${info.dir}\n  created: ${info.createdAt}\n  schema:  ${info.schemaVersion}\n  jobs:    ${jobs.length}`)
      }
      return { project: info, jobs: jobs.length }
    })
  }
}

export const projectClean: Command = {
  name: 'project clean',
  summary: 'Remove files no record uses (deleted datasets, runs, batches; interrupted imports)',
  usage: 'leafseg project clean --project P [--dry-run] [--json]',
  options: { project: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  flags: { 'projects.open': { dir: '--project' } },
  help: ['--project P  the project folder', '--dry-run    only list what would be removed and how much space it frees'],
  async run({ values, json }) {
    return withSession(json, async (cli) => {
      await cli.open(requireString(values, 'project'))
      const report = await cli.call('projects.clean', { dryRun: values['dry-run'] === true })
      if (!json) {
        for (const item of report.items) console.log(`${item.path}  (${item.why}; ${formatBytes(item.bytes)})`)
        console.log(`${report.dryRun ? 'Would remove' : 'Removed'} ${report.files} files, ${formatBytes(report.bytes)}.`)
      }
      return report
    })
  }
}
