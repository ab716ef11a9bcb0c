// Recent projects, remembered per user in a small JSON file (written atomically).
import { existsSync, readFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { RecentProject } from '../../shared/domain'
import { isProjectDir } from './project'
import { writeAtomicSync } from './store/atomic'

const maxRecent = 12

export class RecentProjects {
  private readonly file: string

  constructor(userDataDir: string) {
    this.file = join(userDataDir, 'recent-projects.json')
  }

  private read(): Omit<RecentProject, 'available'>[] {
    if (!existsSync(this.file)) return []
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8'))
      return Array.isArray(parsed) ? parsed.filter((p) => typeof p?.dir === 'string' && typeof p?.name === 'string') : []
    } catch {
      return [] // a damaged list is not worth an error: it refills as projects are opened
    }
  }

  private write(list: Omit<RecentProject, 'available'>[]): void {
    mkdirSync(dirname(this.file), { recursive: true })
    writeAtomicSync(this.file, JSON.stringify(list, null, 2))
  }

  list(): RecentProject[] {
    return this.read().map((p) => ({ ...p, available: isProjectDir(p.dir) }))
  }

  has(dir: string): boolean {
    return this.read().some((p) => p.dir === resolve(dir))
  }

  remember(dir: string, name: string): void {
    const abs = resolve(dir)
    const rest = this.read().filter((p) => p.dir !== abs)
    this.write([{ dir: abs, name, openedAt: new Date().toISOString() }, ...rest].slice(0, maxRecent))
  }

  forget(dir: string): void {
    this.write(this.read().filter((p) => p.dir !== resolve(dir)))
  }
}
