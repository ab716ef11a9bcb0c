// Masks made in Leafseg: saved by a person (the editor, the assist) or by a run (pre-labelling). Each PNG (the
// binary mask, and the leaves when a person separated them) gets a new name (photo id + content hash) and is
// written atomically; only then does one transaction point the photo at them. A crash at any moment leaves the old mask or the new one, never half of either; the old file is
// removed after the commit (unless an evaluation shows it).
import { createHash } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { SaveHow } from '../../../shared/api/labelling'
import type { MaskMadeBy } from '../../../shared/domain'
import { ApiError } from '../../../shared/errors'
import type { Project } from '../project'
import { writePng } from '../imaging/raster'
import { getPhoto, setMask, type MaskRecord } from '../datasets/records'
import { renumberLeaves, writeInstanceIds } from '../datasets/instances'
import { maskFileInUse, maskProvenance, type MaskProvenance } from './records'

/** Who made a mask after a person's edit: editing a run's mask corrects it; a brush on an assisted mask keeps it assisted. */
export function madeByAfterEdit(current: MaskMadeBy | null, how: SaveHow): MaskMadeBy {
  if (current === 'model-made' || current === 'model-corrected') return 'model-corrected'
  if (how === 'assisted' || current === 'assisted') return 'assisted'
  return 'drawn'
}

/**
 * Save `mask` (row-major, non-zero = leaf, the photo's size) as the photo's mask, made by a person, with its leaves
 * (`ids`: 0 = background, any other value = one leaf, non-zero exactly where the mask is) or without any.
 */
export async function saveMadeMask(project: Project, photoId: number, mask: Uint8Array, how: SaveHow, ids: Uint16Array | null = null): Promise<void> {
  await replaceMask(project, photoId, mask, ids, (provenance) => ({
    source: 'drawn',
    madeBy: madeByAfterEdit(provenance?.madeBy ?? null, how),
    modelMade: false,
    byRun: provenance?.byRun ?? undefined
  }))
}

/**
 * Save a run's mask for a photo, marked model-made, with the leaves it separated (`ids`, for a run that separates
 * leaves), unless a person's mask is there by the time it is written (then nothing changes and it returns false):
 * a model never overwrites a person's work.
 */
export async function saveModelMask(project: Project, photoId: number, mask: Uint8Array, byRun: NonNullable<MaskRecord['byRun']>, ids: Uint16Array | null = null): Promise<boolean> {
  return replaceMask(project, photoId, mask, ids, (provenance) =>
    provenance && !provenance.modelMade ? null : { source: 'predicted', madeBy: 'model-made', modelMade: true, byRun }
  )
}

/** Write the new mask file (and leaves file), then in one transaction decide (from what is there now) and record them. */
async function replaceMask(
  project: Project,
  photoId: number,
  mask: Uint8Array,
  ids: Uint16Array | null,
  decide: (current: MaskProvenance | null) => Pick<MaskRecord, 'source' | 'madeBy' | 'modelMade' | 'byRun'> | null
): Promise<boolean> {
  const photo = getPhoto(project.db, photoId)
  if (mask.length !== photo.width * photo.height) throw new ApiError('bad_input', `The mask has ${mask.length} pixels but ${photo.name} is ${photo.width}×${photo.height}.`)
  const binary = Uint8Array.from(mask, (v) => (v ? 255 : 0))
  let leaf = 0
  for (const v of binary) if (v) leaf++
  const hash = createHash('sha256').update(binary).digest('hex')
  await mkdir(project.path('masks'), { recursive: true })
  const target = project.path('masks', `${photoId}.${hash.slice(0, 16)}.png`)
  await writePng(target, { width: photo.width, height: photo.height, channels: 1, data: binary })
  const file = relative(project.dir, target).split('\\').join('/')
  let leaves: { file: string; count: number } | null = null
  if (ids) {
    const inst = { width: photo.width, height: photo.height, ids: Uint16Array.from(ids), count: 0 }
    inst.count = renumberLeaves(inst.ids, photo.name)
    const leavesTarget = project.path('masks', `${photoId}.${createHash('sha256').update(inst.ids).digest('hex').slice(0, 16)}.instances.png`)
    await writeInstanceIds(leavesTarget, inst)
    leaves = { file: relative(project.dir, leavesTarget).split('\\').join('/'), count: inst.count }
  }
  const outcome = project.db.transaction(() => {
    const before = getPhoto(project.db, photoId).mask
    const how = decide(maskProvenance(project.db, photoId))
    if (!how) return null
    // saved without leaves, the mask keeps none: the old instances described the old pixels
    setMask(project.db, photoId, { file, instancesFile: leaves?.file ?? null, leaves: leaves?.count ?? null, hash, foreground: leaf / binary.length, ...how })
    return { before }
  })()
  const kept = new Set([file, leaves?.file])
  if (!outcome) {
    // not recorded: its files are not needed (unless they are, byte for byte, the files already there)
    const current = getPhoto(project.db, photoId).mask
    for (const made of kept) if (made && made !== current?.file && made !== current?.instancesFile) await unlink(join(project.dir, made)).catch(() => {})
    return false
  }
  for (const old of [outcome.before?.file, outcome.before?.instancesFile]) {
    if (old && !kept.has(old) && !maskFileInUse(project.db, old)) await unlink(join(project.dir, old)).catch(() => {})
  }
  return true
}
