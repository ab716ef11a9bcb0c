// Leaf instances: which leaf each pixel of a mask belongs to. One stored format whatever the source (colour or
// index label images, COCO objects, Labelbox objects, the editor): a one-channel 8-bit PNG, 0 = background and
// 1..count = the leaves, numbered without gaps. Any image viewer opens it (dark gray levels), and the renderer
// reads the ids back from its pixels. A photo holds at most 255 leaves; more is refused by name.
// The binary mask beside it stays what binary training and evaluation read; its leaf pixels are the union of
// the leaves.
import { join } from 'node:path'
import sharp from 'sharp'
import type { PhotoDetail } from '../../../shared/domain'
import { maxLeavesPerPhoto } from '../../../shared/bounds'
import type { Project } from '../project'
import { writePng } from '../imaging/raster'
import { DatasetError } from './errors'
import { getPhoto } from './records'

export interface InstanceIds {
  width: number
  height: number
  /** Per pixel, row-major: 0 = background, 1..count = leaf. */
  ids: Uint16Array
  count: number
}

/**
 * Number the leaves 1..count without gaps, in place: by their source label's value (index images), or in order
 * of first appearance row by row (`firstSeen`). Returns the count. Throws DatasetError naming `file` above the limit.
 */
export function renumberLeaves(ids: Uint16Array, file: string, order: 'by-value' | 'first-seen' = 'by-value'): number {
  const present = new Set<number>()
  for (const v of ids) if (v) present.add(v)
  checkLeafCount(present.size, file)
  const labels = order === 'by-value' ? [...present].sort((a, b) => a - b) : [...present]
  const idOf = new Map(labels.map((v, i) => [v, i + 1]))
  for (let i = 0; i < ids.length; i++) if (ids[i]) ids[i] = idOf.get(ids[i])!
  return labels.length
}

/** Refuse more leaves than the stored format holds. */
export function checkLeafCount(count: number, file: string): void {
  if (count > maxLeavesPerPhoto) {
    throw new DatasetError(
      'unsupported',
      file,
      `${file} labels ${count} separate leaves; Leafseg keeps at most ${maxLeavesPerPhoto} leaves per photo. If its labels are not one per leaf (a smoothed or JPEG-saved colour label), save it as a plain black-and-white mask`
    )
  }
}

/** Write leaf ids in the stored format (atomically). */
export async function writeInstanceIds(path: string, inst: InstanceIds): Promise<void> {
  checkLeafCount(inst.count, path)
  await writePng(path, { width: inst.width, height: inst.height, channels: 1, data: Uint8Array.from(inst.ids) })
}

/** Read an instance file in the stored format. Throws naming the file when it is not one. */
export async function readInstanceFile(path: string): Promise<InstanceIds> {
  let decoded
  try {
    const image = sharp(path)
    const meta = await image.metadata()
    if (meta.channels !== 1 || meta.depth !== 'uchar' || meta.isPalette) {
      throw new DatasetError(
        'unsupported',
        path,
        `The leaf instances ${path} are not one 8-bit channel of leaf ids (${meta.channels} channels, ${meta.depth}); import the photo's masks again`
      )
    }
    decoded = await image.extractChannel(0).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  } catch (err) {
    if (err instanceof DatasetError) throw err
    throw new DatasetError('unreadable', path, `The leaf instances ${path} cannot be read (${(err as Error).message})`)
  }
  const { data, info } = decoded
  const ids = Uint16Array.from(data)
  let count = 0
  for (const v of ids) if (v > count) count = v
  return { width: info.width, height: info.height, ids, count }
}

/** A photo's leaf instances (null when its mask has none): the one reader for training, evaluation and export. */
export async function readInstanceIds(project: Project, photo: PhotoDetail | number): Promise<InstanceIds | null> {
  const p = typeof photo === 'number' ? getPhoto(project.db, photo) : photo
  const file = p.mask?.instancesFile
  if (!file) return null
  const inst = await readInstanceFile(join(project.dir, file))
  if (inst.width !== p.width || inst.height !== p.height) {
    throw new DatasetError(
      'mask-size',
      file,
      `The leaf instances ${file} of ${p.name} are ${inst.width}×${inst.height} pixels but the photo is ${p.width}×${p.height}`
    )
  }
  return inst
}

/** The binary mask (0/255) of a set of leaves: their union. */
export function binaryOfIds(ids: Uint16Array): Uint8Array {
  return Uint8Array.from(ids, (v) => (v ? 255 : 0))
}
