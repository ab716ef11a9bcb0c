// Masks made in Leafseg: saved by a person (the editor, the assist) or by a run (pre-labelling). Each PNG (the
// binary mask, and the leaves when a person separated them) gets a new name of its own (photo id, content hash and
// a random part) and is written atomically; only then does one transaction point the photo at them. A crash at any
// moment leaves the old mask or the new one, never half of either; the record never names a missing file; the old
// file is removed after the commit (unless an evaluation shows it).
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { SaveHow } from '../../../shared/api/labelling'
import type { MaskMadeBy, PhotoDetail } from '../../../shared/domain'
import { ApiError } from '../../../shared/errors'
import type { Project } from '../project'
import { writePng } from '../imaging/raster'
import { getPhoto, setMask, type MaskRecord } from '../datasets/records'
import { renumberLeaves, writeInstanceIds } from '../datasets/instances'
import { whileWriting } from '../store/pending'
import { maskFileInUse, maskProvenance, type MaskProvenance } from './records'

/** Who made a mask after a person's edit: editing a run's mask corrects it; a brush on an assisted mask keeps it assisted. */
export function madeByAfterEdit(current: MaskMadeBy | null, how: SaveHow): MaskMadeBy {
  if (current === 'model-made' || current === 'model-corrected') return 'model-corrected'
  if (how === 'assisted' || current === 'assisted') return 'assisted'
  return 'drawn'
}

/**
 * Save `mask` (row-major, non-zero = leaf, the photo's size) as the photo's mask, made by a person, with its leaves
 * (`ids`: 0 = background, any other value = one leaf, non-zero exactly where the mask is) or without any. With
 * `baseVersion` (the version the person started from; 0 for a photo without a mask), a save that another got in
 * before is refused (ApiError 'conflict', naming the current version) and changes nothing.
 */
export async function saveMadeMask(
  project: Project,
  photoId: number,
  mask: Uint8Array,
  how: SaveHow,
  ids: Uint16Array | null = null,
  baseVersion?: number
): Promise<void> {
  await replaceMask(
    project,
    photoId,
    mask,
    ids,
    (provenance) => ({
      source: 'drawn',
      madeBy: madeByAfterEdit(provenance?.madeBy ?? null, how),
      modelMade: false,
      byRun: provenance?.byRun ?? undefined,
      byClassifier: provenance?.byClassifier ?? undefined
    }),
    baseVersion
  )
}

/**
 * Save a run's mask for a photo, marked model-made, with the leaves it separated (`ids`, for a run that separates
 * leaves), unless a person's mask is there by the time it is written (then nothing changes and it returns false):
 * a model never overwrites a person's work.
 */
export async function saveModelMask(
  project: Project,
  photoId: number,
  mask: Uint8Array,
  byRun: NonNullable<MaskRecord['byRun']>,
  ids: Uint16Array | null = null
): Promise<boolean> {
  return replaceMask(project, photoId, mask, ids, (provenance) =>
    provenance && !provenance.modelMade ? null : { source: 'predicted', madeBy: 'model-made', modelMade: true, byRun }
  )
}

/** Save the pixel classifier's mask for a photo, as saveModelMask does a run's: never over a person's mask. */
export async function saveClassifierMask(
  project: Project,
  photoId: number,
  mask: Uint8Array,
  byClassifier: NonNullable<MaskRecord['byClassifier']>
): Promise<boolean> {
  return replaceMask(project, photoId, mask, null, (provenance) =>
    provenance && !provenance.modelMade ? null : { source: 'predicted', madeBy: 'model-made', modelMade: true, byClassifier }
  )
}

/**
 * Write the new mask file (and leaves file) under new names of their own, then in one transaction check the version
 * it replaces, decide (from what is there now) and record them; then remove the old files. A refused save removes
 * its own files. The files are listed as being written meanwhile, so clean-up in any process leaves them alone.
 */
async function replaceMask(
  project: Project,
  photoId: number,
  mask: Uint8Array,
  ids: Uint16Array | null,
  decide: (current: MaskProvenance | null) => Pick<MaskRecord, 'source' | 'madeBy' | 'modelMade' | 'byRun' | 'byClassifier'> | null,
  baseVersion?: number
): Promise<boolean> {
  const photo = getPhoto(project.db, photoId)
  if (mask.length !== photo.width * photo.height)
    throw new ApiError('bad_input', `The mask has ${mask.length} pixels but ${photo.name} is ${photo.width}×${photo.height}.`)
  const binary = Uint8Array.from(mask, (v) => (v ? 255 : 0))
  let leaf = 0
  for (const v of binary) if (v) leaf++
  const hash = createHash('sha256').update(binary).digest('hex')
  const inst = ids && { width: photo.width, height: photo.height, ids: Uint16Array.from(ids), count: 0 }
  if (inst) inst.count = renumberLeaves(inst.ids, photo.name)
  // A name no other save uses: two saves of the same pixels must not write (or later remove) each other's file.
  const name = `masks/${photoId}.${hash.slice(0, 16)}.${randomBytes(6).toString('hex')}`
  const file = `${name}.png`
  const leavesFile = inst ? `${name}.instances.png` : null
  const written = leavesFile ? [file, leavesFile] : [file]
  await mkdir(project.path('masks'), { recursive: true })
  return whileWriting(project.db, written, async () => {
    let recorded: { before: PhotoDetail['mask'] } | null = null
    try {
      await writePng(join(project.dir, file), { width: photo.width, height: photo.height, channels: 1, data: binary })
      if (inst && leavesFile) await writeInstanceIds(join(project.dir, leavesFile), inst)
      // immediate: it reads then writes, and a deferred one is refused outright (not waited for) when another
      // process wrote in between
      recorded = project.db
        .transaction(() => {
          const before = getPhoto(project.db, photoId).mask
          const current = before?.version ?? 0
          if (baseVersion !== undefined && baseVersion !== current) {
            throw new ApiError(
              'conflict',
              `The mask of ${photo.name} was saved elsewhere meanwhile (it is at version ${current}; this save replaced version ${baseVersion}), so this save was refused: load the mask again and redo the change.`
            )
          }
          const how = decide(maskProvenance(project.db, photoId))
          if (!how) return null
          // saved without leaves, the mask keeps none: the old instances described the old pixels
          setMask(project.db, photoId, { file, instancesFile: leavesFile, leaves: inst?.count ?? null, hash, foreground: leaf / binary.length, ...how })
          return { before }
        })
        .immediate()
    } finally {
      // not recorded (refused, failed, or a person's mask is there): its files are not needed
      if (!recorded) for (const made of written) await unlink(join(project.dir, made)).catch(() => {})
    }
    if (!recorded) return false
    for (const old of [recorded.before?.file, recorded.before?.instancesFile]) {
      if (old && !maskFileInUse(project.db, old)) await unlink(join(project.dir, old)).catch(() => {})
    }
    return true
  })
}
