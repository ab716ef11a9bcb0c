// The dataset jobs: import photos, import masks (folder, Labelbox, COCO), export masks.
// They run in the job process: files are read and written there, and each record lands in SQLite
// only after its files are complete on disk, so a cancel or crash leaves nothing half-made.
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { basename, dirname, extname, join, relative } from 'node:path'
import { existsSync, mkdirSync } from 'node:fs'
import type { ImportMasksResult, ImportPhotosResult, MaskJobSource } from '../../../shared/api/datasets'
import type { MaskSource } from '../../../shared/domain'
import { ApiError } from '../../../shared/errors'
import type { JobContext } from '../jobs/context'
import type { Project } from '../project'
import { readRaster, type Raster } from '../imaging/raster'
import { DatasetError } from './errors'
import { inspectPhotos, scanPhotos, type InspectResult } from './photos'
import { DEFAULT_MASK_SUFFIXES, matchMasksToPhotos } from './match'
import { maskFromIds, normaliseMask, writeMask, type NormalisedMask } from './masks'
import { downloadLabelboxMasks, labelboxRowInstances, matchLabelboxRows, readLabelboxExport } from './labelbox'
import { cocoFromMasks, cocoImageInstances, exportMaskFolder, instancesSuffix, parseCoco, type MaskForExport } from './coco'
import { readInstanceFile, readInstanceIds } from './instances'
import { stemOf } from './util'
import { datasetPhotos, getDataset, insertPhoto, photoWithHash, recordProblem, setMask, type MaskRecord } from './records'
import { whileWriting } from '../store/pending'
import { writeAtomic } from '../store/atomic'
import { withSpaceNeeded } from '../store/errors'
import { readAnnotationText } from './limits'

/** Copy a file into the project atomically; skip when it is already there. */
async function copyInto(source: string, target: string): Promise<void> {
  if (existsSync(target)) return
  await mkdir(dirname(target), { recursive: true })
  await writeAtomic(target, (tmp) => copyFile(source, tmp))
}

const rel = (project: Project, path: string) => relative(project.dir, path).split('\\').join('/')

export async function importPhotosJob(params: { datasetId: number; paths: string[] }, ctx: JobContext<'import-photos'>): Promise<ImportPhotosResult> {
  const { project, signal } = ctx
  const db = project.db
  getDataset(db, params.datasetId)
  ctx.progress(0, 0, 'Looking for photos…')
  const scan = await scanPhotos(params.paths, { signal, onProgress: (found) => ctx.progress(0, 0, `Looking for photos… ${found} files`) })
  const skipped = [...scan.skippedProjects, ...scan.unreadableFolders]
  if (scan.files.length === 0) {
    const why = skipped.length ? ` ${skipped.map((s) => s.message).join('. ')}.` : ''
    throw new ApiError('bad_input', `No photos found in ${params.paths.join(', ')} (JPEG, PNG, TIFF, BMP or WebP; sub-folders are searched too).${why}`)
  }
  const result: ImportPhotosResult = { imported: 0, duplicates: [], problems: [], ignored: scan.ignored }
  for (const folder of skipped) {
    recordProblem(db, params.datasetId, ctx.jobId, folder.path, folder.message)
    result.problems.push({ path: folder.path, reason: folder.message })
  }
  const seen = new Map<string, string>()

  const record = async (r: InspectResult): Promise<void> => {
    if (!r.ok) {
      recordProblem(db, params.datasetId, ctx.jobId, r.path, r.problem.message)
      result.problems.push({ path: r.path, reason: r.problem.message })
      return
    }
    const photo = r.photo
    const earlier = seen.get(photo.hash) ?? photoWithHash(db, params.datasetId, photo.hash)?.name
    if (earlier) {
      result.duplicates.push({ path: photo.path, sameAs: earlier })
      return
    }
    seen.set(photo.hash, photo.path)
    const ext = extname(photo.path).toLowerCase() || `.${photo.format}`
    const target = project.path('photos', photo.hash.slice(0, 2), `${photo.hash}${ext}`)
    await copyInto(photo.path, target)
    insertPhoto(db, {
      datasetId: params.datasetId,
      name: basename(photo.path),
      file: rel(project, target),
      thumbnail: rel(project, photo.thumbnail!),
      hash: photo.hash,
      bytes: photo.size,
      width: photo.width,
      height: photo.height,
      sourcePath: photo.path
    })
    result.imported++
  }

  const pending = new Map<number, InspectResult>()
  let nextToRecord = 0
  // What the import writes: a copy of each photo plus a small thumbnail (a few % of it, at least a few kB).
  const needed = scan.files.reduce((sum, f) => sum + f.size + Math.max(f.size * 0.05, 20_000), 0)
  await inspectPhotos(scan.files, {
    signal,
    concurrency: 4,
    thumbnail: {
      path: (hash) => {
        const dir = project.path('thumbnails', hash.slice(0, 2))
        mkdirSync(dir, { recursive: true })
        return join(dir, `${hash}.webp`)
      }
    },
    // Record in scan order, whatever order the photos finish in: which of two identical files is
    // kept (and which reported as its duplicate) must not depend on timing.
    onResult: async (r, index) => {
      pending.set(index, r)
      while (pending.has(nextToRecord)) {
        const ready = pending.get(nextToRecord)!
        pending.delete(nextToRecord++)
        await record(ready)
      }
    },
    onProgress: (done, total, name) => ctx.progress(done, total, name)
  }).catch((err) => {
    throw withSpaceNeeded(err, 'the photos could not be copied into the project', project.dir, needed)
  })
  return result
}

function maskHash(mask: Raster): string {
  return createHash('sha256').update(mask.data).digest('hex')
}

/** Write a photo's mask files and record them. The binary PNG is written atomically before the row changes. */
async function storeMask(project: Project, photoId: number, mask: NormalisedMask, source: MaskSource): Promise<void> {
  await mkdir(project.path('masks'), { recursive: true })
  const binary = project.path('masks', `${photoId}.png`)
  const instances = mask.instances ? project.path('masks', `${photoId}.instances.png`) : undefined
  const record: MaskRecord = {
    file: rel(project, binary),
    instancesFile: instances ? rel(project, instances) : null,
    leaves: mask.instances?.count ?? null,
    hash: maskHash(mask.binary),
    source,
    madeBy: 'imported',
    foreground: mask.foreground,
    modelMade: false
  }
  // listed as being written until recorded, so a clean-up meanwhile leaves them
  await whileWriting(project.db, [record.file, ...(record.instancesFile ? [record.instancesFile] : [])], async () => {
    await writeMask(mask, { binary, instances })
    setMask(project.db, photoId, record)
  })
}

/** The mask with the leaves of an instance file beside it, which must cover exactly the mask's leaf pixels. */
async function withLeavesFrom(file: string, mask: NormalisedMask, maskFile: string): Promise<NormalisedMask> {
  const inst = await readInstanceFile(file)
  if (inst.width !== mask.width || inst.height !== mask.height) {
    throw new DatasetError(
      'mask-size',
      file,
      `The leaf instances ${file} are ${inst.width}×${inst.height} pixels but the mask ${maskFile} is ${mask.width}×${mask.height}`
    )
  }
  const leaves = maskFromIds(inst.ids, inst.width, inst.height, 'instance-ids', file, 'by-value')
  const differ = leaves.binary.data.findIndex((v, i) => v !== mask.binary.data[i])
  if (differ >= 0) {
    const [x, y] = [differ % mask.width, Math.floor(differ / mask.width)]
    throw new DatasetError(
      'unsupported',
      file,
      `The leaf instances ${file} do not cover the same pixels as the mask ${maskFile} (first difference at x ${x}, y ${y}); export them again together, or remove the instances file to import the mask alone`
    )
  }
  return { ...mask, instances: leaves.instances }
}

function sizeProblem(name: string, file: string, mask: { width: number; height: number }, photo: { width: number; height: number }): string | null {
  return mask.width === photo.width && mask.height === photo.height
    ? null
    : `The mask for ${name} from ${file} is ${mask.width}×${mask.height} pixels but the photo is ${photo.width}×${photo.height}; it was not used.`
}

export async function importMasksJob(params: { datasetId: number; source: MaskJobSource }, ctx: JobContext<'import-masks'>): Promise<ImportMasksResult> {
  const { project, signal } = ctx
  const db = project.db
  getDataset(db, params.datasetId)
  const photos = datasetPhotos(db, params.datasetId)
  if (photos.length === 0) throw new ApiError('bad_input', 'This dataset has no photos yet: import photos first, then their masks.')
  const byName = new Map(photos.map((p) => [p.name, p]))
  const result: ImportMasksResult = { masks: 0, unmatchedMasks: [], unmatchedPhotos: [], problems: [] }
  const problem = (path: string, reason: string) => {
    recordProblem(db, params.datasetId, ctx.jobId, path, reason)
    result.problems.push({ path, reason })
  }
  const source = params.source

  if (source.kind === 'folder') {
    ctx.progress(0, 0, 'Looking for masks…')
    const scan = await scanPhotos([source.dir], { signal })
    const files = scan.files.filter((f) => !f.problem).map((f) => f.path)
    // `<stem>.instances.png` beside `<stem>.png` (what a PNG export writes) gives that mask's leaves.
    const isInstances = (f: string) => stemOf(f).toLowerCase().endsWith(instancesSuffix) && extname(f).toLowerCase() === '.png'
    const instanceFiles = new Set(files.filter(isInstances))
    const maskFiles = files.filter((f) => !isInstances(f))
    if (maskFiles.length === 0) throw new ApiError('bad_input', `No mask images found in ${source.dir}.`)
    const match = matchMasksToPhotos(
      photos.map((p) => p.name),
      maskFiles,
      { suffixes: [...DEFAULT_MASK_SUFFIXES, ...(source.moreSuffixes ?? [])] }
    )
    result.unmatchedMasks = match.unmatchedMasks
    result.unmatchedPhotos = match.unmatchedPhotos.map((u) => u.path)
    let done = 0
    for (const pair of match.pairs) {
      signal.throwIfAborted()
      const photo = byName.get(pair.photo)!
      try {
        const mask = await normaliseMask(pair.mask, { threshold: source.threshold, expected: { width: photo.width, height: photo.height, photo: photo.name } })
        const leaves = join(dirname(pair.mask), `${stemOf(pair.mask)}${instancesSuffix}.png`)
        await storeMask(project, photo.id, instanceFiles.has(leaves) ? await withLeavesFrom(leaves, mask, pair.mask) : mask, 'folder')
        result.masks++
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err
        problem(pair.mask, err.message)
      }
      ctx.progress(++done, match.pairs.length, basename(pair.mask))
    }
    return result
  }

  if (source.kind === 'labelbox') {
    const apiKey = ctx.secrets.apiKey
    if (!apiKey) throw new ApiError('invalid_argument', 'A Labelbox API key is needed to download the masks.')
    const exported = await readLabelboxExport(source.file)
    const match = matchLabelboxRows(
      exported.rows,
      photos.map((p) => p.name)
    )
    result.unmatchedMasks = match.unmatchedRows.map((u) => ({ path: `${source.file} #${u.row.position}`, reason: u.reason }))
    result.unmatchedPhotos = match.unmatchedPhotos
    // One cache per export file: a cancelled or crashed import resumes without downloading again.
    const cacheDir = project.path(
      'imports',
      'labelbox',
      createHash('sha256')
        .update(await readFile(source.file))
        .digest('hex')
        .slice(0, 16)
    )
    const report = await downloadLabelboxMasks(
      match.pairs.map((p) => p.row),
      {
        apiKey,
        cacheDir,
        signal,
        keyHosts: labelboxKeyHosts(),
        onProgress: (done, total, message) => ctx.progress(done, total * 2, message ?? 'Downloading masks…')
      }
    )
    const failedRows = new Set(report.failed.flatMap((f) => f.rows))
    for (const f of report.failed) problem(f.url, f.message)
    let done = 0
    for (const pair of match.pairs) {
      signal.throwIfAborted()
      ctx.progress(match.pairs.length + done++, match.pairs.length * 2, pair.photo)
      if (failedRows.has(pair.row.position)) continue
      const photo = byName.get(pair.photo)!
      try {
        const mask = await labelboxRowInstances(pair.row, cacheDir, source.file, { width: photo.width, height: photo.height })
        if (!mask) continue
        const wrong = sizeProblem(photo.name, source.file, mask, photo)
        if (wrong) problem(source.file, wrong)
        else {
          await storeMask(project, photo.id, mask, 'labelbox')
          result.masks++
        }
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err
        problem(source.file, err.message)
      }
    }
    return result
  }

  // COCO: images are matched to photos by file name (the name alone, or its stem).
  const text = await readAnnotationText(source.file, 'COCO file')
  let coco
  try {
    coco = parseCoco(text, source.file)
  } catch (err) {
    throw new ApiError('bad_input', (err as Error).message)
  }
  const byStem = new Map(photos.map((p) => [stemOf(p.name), p]))
  const used = new Set<number>()
  let done = 0
  for (const image of coco.images) {
    signal.throwIfAborted()
    ctx.progress(done++, coco.images.length, image.fileName)
    const photo = byName.get(basename(image.fileName)) ?? byStem.get(stemOf(image.fileName))
    if (!photo) {
      result.unmatchedMasks.push({ path: image.fileName, reason: 'no photo in the dataset has this file name' })
      continue
    }
    const wrong = sizeProblem(photo.name, source.file, image, photo)
    if (wrong) {
      problem(image.fileName, wrong)
      continue
    }
    try {
      await storeMask(project, photo.id, cocoImageInstances(coco, image.id, { file: source.file }), 'coco')
      used.add(photo.id)
      result.masks++
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err
      problem(image.fileName, err.message)
    }
  }
  result.unmatchedPhotos = photos.filter((p) => !used.has(p.id)).map((p) => p.name)
  return result
}

/**
 * Hosts that may receive the Labelbox API key: Labelbox's own, or those named in LEAFSEG_LABELBOX_KEY_HOSTS
 * (comma-separated) for a lab that reaches Labelbox through its own proxy.
 */
function labelboxKeyHosts(): string[] | undefined {
  const hosts = process.env.LEAFSEG_LABELBOX_KEY_HOSTS?.split(',')
    .map((h) => h.trim())
    .filter(Boolean)
  return hosts?.length ? hosts : undefined
}

export async function exportMasksJob(
  params: { datasetId: number; dir: string; format: 'png' | 'coco' },
  ctx: JobContext<'export-masks'>
): Promise<{ written: number; path: string }> {
  const { project, signal } = ctx
  const labelled = datasetPhotos(project.db, params.datasetId).filter((p) => p.mask)
  if (labelled.length === 0) throw new ApiError('bad_input', 'No photo in this dataset has a mask to export.')
  await mkdir(params.dir, { recursive: true })
  // One mask (and its leaves) in memory at a time.
  const item = async (i: number): Promise<MaskForExport> => ({
    photo: labelled[i].name,
    mask: await readRaster(join(project.dir, labelled[i].mask!.file), 1),
    leaves: (await readInstanceIds(project, labelled[i])) ?? undefined
  })
  if (params.format === 'png') {
    const names = labelled.map((p) => `${stemOf(p.name)}.png`)
    const clash = names.find((n, i) => names.indexOf(n) !== i)
    if (clash) throw new ApiError('conflict', `Two photos would both get the mask file name ${clash}; rename one of them before exporting.`)
    for (let i = 0; i < labelled.length; i++) {
      signal.throwIfAborted()
      await exportMaskFolder([await item(i)], params.dir)
      ctx.progress(i + 1, labelled.length, names[i])
    }
    return { written: labelled.length, path: params.dir }
  }
  // COCO: each mask becomes compact RLE entries, one per leaf where it has leaves.
  const images: object[] = []
  const annotations: object[] = []
  for (let i = 0; i < labelled.length; i++) {
    signal.throwIfAborted()
    const one = cocoFromMasks([await item(i)]) as { images: { id: number }[]; annotations: { id: number; image_id: number }[] }
    images.push({ ...one.images[0], id: i + 1 })
    for (const a of one.annotations) annotations.push({ ...a, id: annotations.length + 1, image_id: i + 1 })
    ctx.progress(i + 1, labelled.length, labelled[i].name)
  }
  const path = join(params.dir, `${getDataset(project.db, params.datasetId).name.replace(/[^\w.-]+/g, '_')}.coco.json`)
  const { categories } = cocoFromMasks([]) as { categories: unknown }
  await writeAtomic(path, JSON.stringify({ info: { description: 'Leafseg mask export' }, images, annotations, categories }))
  return { written: labelled.length, path }
}
