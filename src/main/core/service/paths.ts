// Which file system paths a renderer may name: inside the open project, or inside a folder the user chose.
import { resolve, sep } from 'node:path'
import { realpathSync } from 'node:fs'
import { ApiError } from '../../../shared/errors'

function canonical(p: string): string {
  try {
    return realpathSync(resolve(p))
  } catch {
    return resolve(p)
  }
}

export function isInside(child: string, parent: string): boolean {
  const c = canonical(child)
  const p = canonical(parent)
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep)
}

export class ChosenFolders {
  private readonly roots = new Set<string>()

  /** Remember a folder the user chose (a dialog's answer, a dropped folder, a path typed in the web host). */
  add(dir: string): void {
    this.roots.add(canonical(dir))
  }

  /** Throws unless `path` is inside one of `extraRoots` (the open project) or a chosen folder. */
  check(path: string, extraRoots: string[] = []): string {
    const abs = resolve(path)
    if ([...extraRoots, ...this.roots].some((root) => isInside(abs, root))) return abs
    throw new ApiError('forbidden', `Leafseg may only use files inside the project or a folder you chose; ${abs} is neither.`)
  }
}
