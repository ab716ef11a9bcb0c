// Saving a mask a person made. The PNG gets a new name (photo id + content hash) and is written atomically;
// only then does one transaction point the photo at it. A crash at any moment leaves the old mask or the new
// one, never half of either; the old file is removed after the commit (unless an evaluation shows it).
import { createHash } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { SaveHow } from '../../../shared/api/labelling'
import type { MaskMadeBy } from '../../../shared/domain'
import { ApiError } from '../../../shared/errors'
import type { Project } from '../project'
import { writePng } from '../imaging/raster'
import { getPhoto, setMask } from '../datasets/records'
import { maskFileInUse, maskProvenance } from './records'

/** Who made a mask after a person's edit: editing a run's mask corrects it; a brush on an assisted mask keeps it assisted. */
export function madeByAfterEdit(current: MaskMadeBy | null, how: SaveHow): MaskMadeBy {
  if (current === 'model-made' || current === 'model-corrected') return 'model-corrected'
  if (how === 'assisted' || current === 'assisted') return 'assisted'
  return 'drawn'
}

/** Save `mask` (row-major, non-zero = leaf, the photo's size) as the photo's mask, made by a person. */
export async function saveMadeMask(project: Project, photoId: number, mask: Uint8Array, how: SaveHow): Promise<void> {
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
  const replaced = project.db.transaction(() => {
    const before = getPhoto(project.db, photoId).mask
    const provenance = maskProvenance(project.db, photoId)
    setMask(project.db, photoId, {
      file,
      // the instance labels described the old pixels; an edited mask is binary
      instancesFile: null,
      hash,
      source: 'drawn',
      madeBy: madeByAfterEdit(provenance?.madeBy ?? null, how),
      foreground: leaf / binary.length,
      modelMade: false,
      byRun: provenance?.byRun ?? undefined
    })
    return before
  })()
  for (const old of [replaced?.file, replaced?.instancesFile]) {
    if (old && old !== file && !maskFileInUse(project.db, old)) await unlink(join(project.dir, old)).catch(() => {})
  }
}
