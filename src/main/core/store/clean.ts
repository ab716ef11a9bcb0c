// "Clean up project": find the files no record refers to any more — photos, thumbnails, masks, trimaps and mattes
// of deleted datasets, folders of deleted runs, evaluations and prediction batches, files left by interrupted
// imports and writes — and remove them. A file any row still names is never touched, nor one being written (listed
// in pending_files by a writer in any process).
import { lstatSync, readdirSync, rmSync, type Dirent } from 'node:fs'
import { join } from 'node:path'
import type { CleanReport } from '../../../shared/domain'
import type { Project } from '../project'
import { findTempLeftovers, tempOwner } from './temp'
import { dropExpiredPending, pendingFiles } from './pending'

/** Every column that holds a project-relative file path (a test checks the schema has no other). */
export const fileColumns: Record<string, string[]> = {
  photos: ['file', 'thumbnail'],
  // probability_file: the run's prediction a model-made mask came from (review, "Start from run N's prediction")
  masks: ['file', 'instances_file', 'probability_file'],
  trimaps: ['file'],
  mattes: ['file', 'cutout_file'],
  run_photos: ['photo_file', 'mask_file'],
  evaluation_photos: ['photo_file', 'mask_file', 'probability_file'],
  predicted_photos: ['photo_file', 'mask_file', 'probability_file', 'cutout_file', 'leaves_file'],
  strokes: ['file'],
  pixel_classifiers: ['file']
}

/** Folders whose files are each named by a row: a file no row names is unreferenced. */
const fileFolders = ['photos', 'thumbnails', 'masks', 'trimaps', 'mattes', 'strokes', 'classifiers'] as const

const slash = (p: string): string => p.split('\\').join('/')

function referencedFiles(project: Project): Set<string> {
  const referenced = new Set<string>()
  for (const [table, columns] of Object.entries(fileColumns)) {
    for (const column of columns) {
      for (const row of project.db.prepare(`SELECT ${column} AS f FROM ${table} WHERE ${column} IS NOT NULL`).iterate() as Iterable<{ f: string }>) {
        referenced.add(slash(row.f))
      }
    }
  }
  return referenced
}

const ids = (project: Project, table: string): Set<string> =>
  new Set((project.db.prepare(`SELECT id FROM ${table}`).all() as { id: number }[]).map((r) => String(r.id)))

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

// The walk never follows a symlink (lstat, and a Dirent says what the entry itself is), so a link loop in photos/
// ends at once; and it is bounded, so a folder of millions of files is refused instead of walked without end.
const maxDepth = 64
const maxFilesWalked = 10_000_000

function sizeOf(path: string, depth = 0): number {
  let info
  try {
    info = lstatSync(path)
  } catch {
    return 0
  }
  if (!info.isDirectory() || depth > maxDepth) return info.size
  return entries(path).reduce((sum, e) => sum + sizeOf(join(path, e.name), depth + 1), 0)
}

function filesUnder(dir: string, rel: string, out: string[], depth = 0): string[] {
  if (depth > maxDepth) throw new Error(`${dir} is more than ${maxDepth} folders deep; clean-up stops there. Remove what is not Leafseg's by hand.`)
  for (const e of entries(dir)) {
    if (e.isDirectory()) filesUnder(join(dir, e.name), `${rel}/${e.name}`, out, depth + 1)
    else out.push(`${rel}/${e.name}`)
    if (out.length > maxFilesWalked) throw new Error(`${dir} holds more than ${maxFilesWalked} files; clean-up stops there.`)
  }
  return out
}

/**
 * What no record refers to, as project-relative paths (folders end in '/'), each with why it can go.
 * `under` limits the search to one folder of the project (e.g. 'predictions/3').
 */
export function findUnreferenced(project: Project, under?: string): { path: string; why: string }[] {
  const found: { path: string; why: string }[] = []
  const inScope = (rel: string): boolean => !under || rel === under || rel.startsWith(`${under}/`) || under.startsWith(`${rel.replace(/\/$/, '')}/`)
  const temps = new Set(findTempLeftovers(project.dir).map((p) => slash(p.slice(project.dir.length + 1))))
  for (const t of temps) if (inScope(t)) found.push({ path: t, why: 'left by an interrupted write' })
  // Dead processes' temp files are listed above; a live one's is a write in progress: both are left out below.
  const isTemp = (rel: string): boolean => tempOwner(rel.slice(rel.lastIndexOf('/') + 1)) !== null

  // Files first, then the records and the files being written, in one snapshot: a writer lists its file as pending
  // before writing it and unlists it only after a record names it, so a file listed here is in the snapshot as one
  // or the other unless nothing uses it.
  const listed = fileFolders.flatMap((folder) => filesUnder(project.path(folder), folder, []))
  const { referenced, pending } = project.db.transaction(() => ({ referenced: referencedFiles(project), pending: pendingFiles(project.db) }))()
  for (const rel of listed) {
    if (!referenced.has(rel) && !pending.has(rel) && !isTemp(rel) && inScope(rel)) found.push({ path: rel, why: 'no dataset, run or batch uses it' })
  }
  // Folders owned by one record: runs/<id>/ (and runs/<id>/evaluations/<id>/), predictions/<id>/.
  const runs = ids(project, 'runs')
  const evaluations = ids(project, 'evaluations')
  const batches = ids(project, 'prediction_batches')
  for (const e of entries(project.path('runs'))) {
    const rel = `runs/${e.name}`
    if (isTemp(rel) || !inScope(rel)) continue
    if (!runs.has(e.name)) found.push({ path: `${rel}${e.isDirectory() ? '/' : ''}`, why: 'its training run was deleted' })
    else {
      for (const ev of entries(project.path('runs', e.name, 'evaluations'))) {
        const evRel = `${rel}/evaluations/${ev.name}`
        if (!evaluations.has(ev.name) && !isTemp(evRel)) found.push({ path: `${evRel}${ev.isDirectory() ? '/' : ''}`, why: 'its evaluation was deleted' })
      }
    }
  }
  for (const e of entries(project.path('predictions'))) {
    const rel = `predictions/${e.name}`
    if (!batches.has(e.name) && !isTemp(rel) && inScope(rel))
      found.push({ path: `${rel}${e.isDirectory() ? '/' : ''}`, why: 'its prediction batch was deleted' })
  }
  // Imports: files dropped in a browser and Labelbox masks downloaded, once copied into the project.
  for (const kind of ['uploads', 'labelbox']) {
    for (const e of entries(project.path('imports', kind))) {
      const rel = `imports/${kind}/${e.name}`
      if (!isTemp(rel) && inScope(rel))
        found.push({
          path: `${rel}${e.isDirectory() ? '/' : ''}`,
          why:
            kind === 'uploads'
              ? 'files dropped in a browser; imports copied them into the project'
              : 'downloaded Labelbox masks; imports copied them into the project'
        })
    }
  }
  // Never anything a row names, whatever folder it sits in (e.g. a batch's photo copies named by its rows).
  return found.filter((f) => !referenced.has(f.path) && ![...referenced].some((r) => f.path.endsWith('/') && r.startsWith(f.path)))
}

/** Remove (or with dryRun only list) what findUnreferenced finds; the report says how many files and bytes. */
export function cleanProject(project: Project, opts: { dryRun?: boolean; under?: string } = {}): CleanReport {
  const found = findUnreferenced(project, opts.under)
  const report: CleanReport = { dryRun: opts.dryRun ?? false, files: 0, bytes: 0, items: [] }
  if (!opts.dryRun) dropExpiredPending(project.db)
  for (const f of found) {
    const abs = join(project.dir, f.path)
    const bytes = sizeOf(abs)
    const files = f.path.endsWith('/') ? filesUnder(abs, '', []).length : 1
    if (!opts.dryRun) rmSync(abs, { recursive: true, force: true })
    report.files += files
    report.bytes += bytes
    report.items.push({ path: f.path, why: f.why, files, bytes })
  }
  return report
}
