// Which better-sqlite3 binary this runtime loads. Plain Node (CLI, web host, tests) uses the package's own
// build/Release binary; Electron (the app, its job and matting processes) uses the one `npm start` built for
// Electron's ABI into build/electron-<abi>/ (scripts/native.mjs), so the app and the CLI work side by side.
// An installed app has its binary rebuilt in place by the installer, and no electron-<abi> folder.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export function sqliteBinding(
  versions: { electron?: string; modules: string } = process.versions,
  packageDir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))
): string | undefined {
  if (!versions.electron) return undefined
  const file = join(packageDir, 'build', `electron-${versions.modules}`, 'better_sqlite3.node')
  return existsSync(file) ? file : undefined
}
