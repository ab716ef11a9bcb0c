// API area: labelling — box-and-click proposals, masks saved as a person made them, and strokes with the pixel
// classifier trained from them.
import { z } from 'zod'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { PhotoDetail } from '../../../shared/domain'
import type { LabellingApi, StrokesInfo } from '../../../shared/api/labelling'
import { ApiError } from '../../../shared/errors'
import { encodeLeaves, encodeRle, rleProblem, type Rle } from '../../../shared/rle'
import { assistBounds, maxLeavesPerPhoto } from '../../../shared/bounds'
import { readRaster } from '../imaging/raster'
import { unsureBand } from '../labelling/grabcut'
import { LabellingThread } from '../labelling/labelling-thread'
import { assistPredictionFile } from '../labelling/jobs'
import { saveMadeMask } from '../labelling/masks'
import { datasetStrokes, getClassifierRecord, getStrokes, maskProvenance, reviewQueue, setClassifierRecord, setStrokes } from '../labelling/records'
import { writeClassifierFile } from '../labelling/classifier-files'
import { defaultForestOptions } from '../labelling/forest'
import { writePng } from '../imaging/raster'
import { whileWriting } from '../store/pending'
import { randomBytes } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { basename } from 'node:path'
import { confirmMask, getDataset, getPhoto } from '../datasets/records'
import { readInstanceIds } from '../datasets/instances'
import { getRun } from '../training/records'
import type { Methods, Schemas } from './area'
import { filePath, id } from './schema-parts'
import type { ServiceContext } from './context'

type K = keyof LabellingApi

const coordinate = z.number().min(0).max(assistBounds.maxSide)
const rle = z
  .object({
    size: z.tuple([z.number().int().min(1).max(assistBounds.maxSide), z.number().int().min(1).max(assistBounds.maxSide)]),
    counts: z.array(z.number().int().min(0)).max(assistBounds.maxRleCounts)
  })
  .strict()
  .superRefine((value, ctx) => {
    const problem = rleProblem(value as Rle)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

export const labellingSchemas: Schemas<K> = {
  'labels.assist': z
    .object({
      photoId: id,
      box: z.object({ x: coordinate, y: coordinate, width: coordinate, height: coordinate }).strict().optional(),
      clicks: z.array(z.object({ x: coordinate, y: coordinate, leaf: z.boolean() }).strict()).max(assistBounds.maxClicks),
      runId: id.optional(),
      fromClassifier: z.boolean().optional()
    })
    .strict(),
  'labels.saveMask': z
    .object({
      photoId: id,
      mask: rle,
      how: z.enum(['drawn', 'assisted']),
      leaves: z.array(rle).max(maxLeavesPerPhoto).optional(),
      baseVersion: z.number().int().min(0).optional()
    })
    .strict(),
  'labels.mask': z.object({ photoId: id }).strict(),
  'labels.prelabel': z.object({ datasetId: id, runId: id }).strict(),
  'photos.confirmMask': z.object({ id }).strict(),
  'labels.reviewQueue': z.object({ datasetId: id }).strict(),
  'labels.saveStrokes': z
    .object({ photoId: id, strokes: z.object({ leaf: rle, background: rle }).strict(), baseVersion: z.number().int().min(0).optional() })
    .strict(),
  'labels.strokes': z.object({ photoId: id }).strict(),
  'labels.importStrokes': z.object({ photoId: id, file: filePath }).strict(),
  'labels.trainClassifier': z.object({ datasetId: id }).strict(),
  'labels.classifier': z.object({ datasetId: id }).strict(),
  'labels.classifyPhoto': z.object({ photoId: id }).strict(),
  'labels.classify': z.object({ datasetId: id }).strict()
}

/** At most this many photos' strokes train a classifier (the most recently stroked). */
export const maxStrokedPhotos = 200

/**
 * A start for the model assist from a mask and a run's probabilities (both 0–255 per pixel): each pixel keeps the
 * mask's side, and is sure (outside the unsure band) only where the run is sure of the same side.
 */
export function startFromMask(mask: Uint8Array, probabilities: Uint8Array): Uint8Array {
  const hi = unsureBand.high * 256
  const lo = unsureBand.low * 256
  return mask.map((m, i) => {
    const p = probabilities[i]
    if (m >= 128) return p >= hi ? p : 128
    return p < lo ? p : 127
  })
}

export function labellingMethods(s: ServiceContext): Methods<K> {
  // Off the request thread: proposals on one (it keeps one photo's pixels and GrabCut's state while the person
  // clicks), the decoding of saves on another, so a long proposal does not hold up a save.
  const assists = new LabellingThread()
  const saves = new LabellingThread()
  // the pixel classifier's training and predictions: it keeps the last photos' features
  const pixels = new LabellingThread()
  const project = () => s.requireProject().project

  // The starts of the last few (photo, run) pairs asked for, decoded: the clicks on a photo come one by one, and each
  // would otherwise decode the run's probability PNG (and the photo's mask) again. Keyed by the files' paths, sizes
  // and times and the mask's hash, so a file written again is read again.
  const startsKept = new Map<string, Uint8Array>()
  const keptStarts = 4
  async function keptStart(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let start = startsKept.get(key)
    if (start) startsKept.delete(key)
    else start = await make()
    startsKept.set(key, start)
    while (startsKept.size > keptStarts) startsKept.delete(startsKept.keys().next().value!)
    return start
  }
  const fileKey = async (dir: string, file: string) => {
    const st = await stat(join(dir, file))
    return `${file}:${st.size}:${st.mtimeMs}`
  }

  /** The run's prediction of a photo as a project-relative file: kept from an earlier assist, or made now in the job process. */
  async function runPrediction(runId: number, photo: PhotoDetail): Promise<string> {
    const { project: p, jobs } = s.requireProject()
    const run = getRun(p.db, runId)
    if (!run.bestModel) throw new ApiError('bad_input', `Run “${run.name}” has no best checkpoint yet: train it for at least one epoch.`)
    const file = assistPredictionFile(run, photo.hash)
    if (existsSync(join(p.dir, file))) return file
    const job = await jobs.wait(
      jobs.start('assist-prediction', `Predict ${photo.name} with run ${run.id} (“${run.name}”) for the assist`, { runId, photoId: photo.id }).id
    )
    if (job.status !== 'succeeded')
      throw new ApiError(job.status === 'cancelled' ? 'cancelled' : 'internal', `Run ${run.id} could not predict ${photo.name}: ${job.error ?? job.status}`)
    return file
  }

  const photoKey = (dir: string, photo: PhotoDetail) => JSON.stringify([dir, photo.id, photo.hash])

  /** Save strokes (0 none, 1 leaf, 2 background, the photo's size) under a new file, then record it in one transaction. */
  async function writeStrokes(photo: PhotoDetail, strokes: Uint8Array, baseVersion?: number): Promise<StrokesInfo> {
    const p = project()
    let leafPixels = 0
    let backgroundPixels = 0
    for (const v of strokes) {
      if (v === 1) leafPixels++
      else if (v === 2) backgroundPixels++
    }
    const file = `strokes/${photo.id}.${randomBytes(6).toString('hex')}.png`
    await mkdir(p.path('strokes'), { recursive: true })
    return whileWriting(p.db, [file], async () => {
      let result: { version: number; before: string | null } | null = null
      try {
        await writePng(join(p.dir, file), { width: photo.width, height: photo.height, channels: 1, data: strokes })
        result = p.db
          .transaction(() => {
            const before = getStrokes(p.db, photo.id)
            const current = before?.version ?? 0
            if (baseVersion !== undefined && baseVersion !== current)
              throw new ApiError(
                'conflict',
                `The strokes of ${photo.name} were saved elsewhere meanwhile (version ${current}, not ${baseVersion}): load them again.`
              )
            const version = setStrokes(p.db, { photoId: photo.id, datasetId: photo.datasetId, file, leafPixels, backgroundPixels })
            return { version, before: before?.file ?? null }
          })
          .immediate()
      } finally {
        if (!result) await unlink(join(p.dir, file)).catch(() => {})
      }
      if (result.before) await unlink(join(p.dir, result.before)).catch(() => {})
      return { photoId: photo.id, version: result.version, leafPixels, backgroundPixels }
    })
  }

  /** The classifier's P(leaf) of a photo, in the pixels thread (it keeps the photo's features for the next call). */
  async function classifyOne(photo: PhotoDetail) {
    const p = project()
    const record = getClassifierRecord(p.db, photo.datasetId)
    if (!record) throw new ApiError('bad_input', `The dataset of ${photo.name} has no pixel classifier yet: paint leaf and background strokes first.`)
    try {
      return await pixels.classify(
        join(p.dir, record.file),
        JSON.stringify([p.dir, record.file]),
        { key: photoKey(p.dir, photo), width: photo.width, height: photo.height },
        () => readRaster(join(p.dir, photo.file), 3)
      )
    } catch (err) {
      throw new ApiError('bad_input', `${photo.name}: ${(err as Error).message}`)
    }
  }

  return {
    async 'labels.saveStrokes'({ photoId, strokes, baseVersion }) {
      const photo = getPhoto(project().db, photoId)
      for (const [what, m] of [
        ['leaf strokes', strokes.leaf],
        ['background strokes', strokes.background]
      ] as const) {
        const [h, w] = m.size
        if (w !== photo.width || h !== photo.height)
          throw new ApiError('bad_input', `The ${what} are ${w}×${h} but ${photo.name} is ${photo.width}×${photo.height}; strokes must have the photo's size.`)
      }
      const leaf = (await saves.decode(strokes.leaf, undefined, photo.width, photo.height)).binary
      const background = (await saves.decode(strokes.background, undefined, photo.width, photo.height)).binary
      const values = new Uint8Array(leaf.length)
      for (let i = 0; i < values.length; i++) values[i] = background[i] ? 2 : leaf[i] ? 1 : 0
      return writeStrokes(photo, values, baseVersion)
    },
    async 'labels.strokes'({ photoId }) {
      const p = project()
      const photo = getPhoto(p.db, photoId)
      const record = getStrokes(p.db, photoId)
      if (!record) return { strokes: null, version: 0 }
      const raster = await readRaster(join(p.dir, record.file), 1)
      const pick = (v: number) =>
        encodeRle(
          raster.data.map((x) => (x === v ? 1 : 0)),
          photo.width,
          photo.height
        )
      return { strokes: { leaf: pick(1), background: pick(2) }, version: record.version }
    },
    async 'labels.importStrokes'({ photoId, file }) {
      const photo = getPhoto(project().db, photoId)
      const path = s.checkPath(file)
      const raster = await readRaster(path, 1)
      if (raster.width !== photo.width || raster.height !== photo.height)
        throw new ApiError(
          'bad_input',
          `${basename(path)} is ${raster.width}×${raster.height} but ${photo.name} is ${photo.width}×${photo.height}; strokes must have the photo's size.`
        )
      const odd = raster.data.findIndex((v) => v > 2)
      if (odd >= 0)
        throw new ApiError(
          'bad_input',
          `${basename(path)} has the value ${raster.data[odd]} at x ${odd % raster.width}, y ${Math.floor(odd / raster.width)}: strokes are 0 (none), 1 (leaf) or 2 (background).`
        )
      return writeStrokes(photo, raster.data)
    },
    async 'labels.trainClassifier'({ datasetId }) {
      const p = project()
      getDataset(p.db, datasetId)
      const stroked = datasetStrokes(p.db, datasetId).slice(-maxStrokedPhotos)
      if (stroked.length === 0) throw new ApiError('bad_input', 'The dataset has no strokes yet: paint some leaf and some background first.')
      const photos = await Promise.all(
        stroked.map(async (st) => {
          const photo = getPhoto(p.db, st.photoId)
          const strokes = await readRaster(join(p.dir, st.file), 1)
          if (strokes.width !== photo.width || strokes.height !== photo.height)
            throw new ApiError('bad_input', `The strokes of ${photo.name} do not have its size.`)
          return { photo, key: photoKey(p.dir, photo), width: photo.width, height: photo.height, strokes: strokes.data }
        })
      )
      let trained
      try {
        trained = await pixels.train(
          photos.map(({ key, width, height, strokes }) => ({ key, width, height, strokes })),
          (key) => readRaster(join(p.dir, photos.find((x) => x.key === key)!.photo.file), 3)
        )
      } catch (err) {
        throw new ApiError('bad_input', (err as Error).message)
      }
      const file = `classifiers/${datasetId}.${randomBytes(6).toString('hex')}.json`
      await mkdir(p.path('classifiers'), { recursive: true })
      const c = trained.classifier
      const before = await whileWriting(p.db, [file], async () => {
        await writeClassifierFile(join(p.dir, file), c)
        return setClassifierRecord(p.db, {
          datasetId,
          file,
          settings: {
            sigmas: c.sigmas,
            features: c.forest.featureCount,
            trees: c.forest.roots.length,
            maxDepth: defaultForestOptions.maxDepth,
            maxFeaturePixels: c.maxFeaturePixels
          },
          photos: photos.length,
          leafPixels: stroked.reduce((n, x) => n + x.leafPixels, 0),
          backgroundPixels: stroked.reduce((n, x) => n + x.backgroundPixels, 0),
          trainMs: trained.ms
        })
      })
      if (before) await unlink(join(p.dir, before)).catch(() => {})
      return getClassifierRecord(p.db, datasetId)!
    },
    async 'labels.classifier'({ datasetId }) {
      const p = project()
      getDataset(p.db, datasetId)
      return getClassifierRecord(p.db, datasetId)
    },
    async 'labels.classifyPhoto'({ photoId }) {
      const started = performance.now()
      const { mask, unsure } = await classifyOne(getPhoto(project().db, photoId))
      return { mask, unsure, ms: Math.round(performance.now() - started) }
    },
    async 'labels.classify'({ datasetId }) {
      const { project: p, jobs } = s.requireProject()
      const dataset = getDataset(p.db, datasetId)
      if (!getClassifierRecord(p.db, datasetId))
        throw new ApiError('bad_input', `“${dataset.name}” has no pixel classifier yet: paint leaf and background strokes and train it first.`)
      return jobs.start('classify', `Label “${dataset.name}” with its pixel classifier`, { datasetId })
    },
    async 'labels.assist'({ photoId, box, clicks, runId, fromClassifier }) {
      const p = project()
      const photo = getPhoto(p.db, photoId)
      const start: { box?: typeof box; probabilities?: Uint8Array; probabilitiesKey?: string } = { box }
      if (fromClassifier && runId !== undefined) throw new ApiError('invalid_argument', 'Give runId or fromClassifier, not both.')
      if (fromClassifier) {
        const byClassifier = maskProvenance(p.db, photoId)?.byClassifier
        if (byClassifier) {
          const key = JSON.stringify([p.dir, await fileKey(p.dir, byClassifier.probabilityFile)])
          start.probabilities = await keptStart(key, async () => (await readRaster(join(p.dir, byClassifier.probabilityFile), 1)).data)
          start.probabilitiesKey = byClassifier.probabilityFile
        } else {
          const record = getClassifierRecord(p.db, photo.datasetId)
          start.probabilities = (await classifyOne(photo)).probabilities
          start.probabilitiesKey = `${record?.file} ${photo.hash}`
        }
      } else if (runId !== undefined) {
        const byRun = maskProvenance(p.db, photoId)?.byRun
        if (byRun && byRun.runId === runId) {
          const key = JSON.stringify([p.dir, await fileKey(p.dir, byRun.probabilityFile)])
          start.probabilities = await keptStart(key, async () => (await readRaster(join(p.dir, byRun.probabilityFile), 1)).data)
          start.probabilitiesKey = byRun.probabilityFile
        } else {
          // The run did not pre-label this photo (a person made or imported its mask): its prediction is made now
          // (and kept), and the proposal starts from the photo's mask, the run saying which of its pixels are sure.
          const file = await runPrediction(runId, photo)
          const maskFile = photo.mask?.file
          const key = JSON.stringify([p.dir, await fileKey(p.dir, file), maskFile ? await fileKey(p.dir, maskFile) : null, photo.mask?.hash ?? null])
          start.probabilities = await keptStart(key, async () => {
            const probabilities = (await readRaster(join(p.dir, file), 1)).data
            const mask = maskFile ? (await readRaster(join(p.dir, maskFile), 1)).data : null
            return mask ? startFromMask(mask, probabilities) : probabilities
          })
          start.probabilitiesKey = `${file} ${photo.mask?.hash ?? ''}`
        }
      }
      const started = performance.now()
      try {
        const key = JSON.stringify([p.dir, photoId, photo.hash])
        const mask = await assists.propose(key, () => readRaster(join(p.dir, photo.file), 3), start, clicks)
        return { mask, ms: Math.round(performance.now() - started) }
      } catch (err) {
        if (err instanceof ApiError) throw err
        throw new ApiError('bad_input', `${photo.name}: ${(err as Error).message}`)
      }
    },
    async 'labels.saveMask'({ photoId, mask, how, leaves, baseVersion }) {
      const p = project()
      const photo = getPhoto(p.db, photoId)
      for (const [what, m] of [['mask', mask], ...(leaves ?? []).map((l, k) => [`leaf ${k + 1}`, l] as const)] as const) {
        const [h, w] = m.size
        if (w !== photo.width || h !== photo.height)
          throw new ApiError('bad_input', `The ${what} is ${w}×${h} but ${photo.name} is ${photo.width}×${photo.height}; a mask must have its photo's size.`)
      }
      const { binary, ids, differ } = await saves.decode(mask, leaves, photo.width, photo.height)
      if (ids) {
        if (differ >= 0)
          throw new ApiError(
            'bad_input',
            `The leaves do not cover the mask of ${photo.name} exactly (first difference at x ${differ % photo.width}, y ${Math.floor(differ / photo.width)}).`
          )
      }
      await saveMadeMask(p, photoId, binary, how, ids, baseVersion)
      return getPhoto(p.db, photoId)
    },
    async 'labels.mask'({ photoId }) {
      const p = project()
      // A save that lands while the files are read removes them: read the record again and its new files.
      for (let attempt = 1; ; attempt++) {
        const photo = getPhoto(p.db, photoId)
        if (!photo.mask) return { mask: null, madeBy: null, leaves: null, version: 0 }
        try {
          const raster = await readRaster(join(p.dir, photo.mask.file), 1)
          const inst = await readInstanceIds(p, photo)
          const leaves = inst && encodeLeaves(inst.ids, inst.width, inst.height)
          return { mask: encodeRle(raster.data, raster.width, raster.height), madeBy: photo.mask.madeBy, leaves, version: photo.mask.version }
        } catch (err) {
          if (attempt >= 10 || getPhoto(p.db, photoId).mask?.version === photo.mask.version) throw err
        }
      }
    },
    async 'labels.prelabel'({ datasetId, runId }) {
      const { project: p, jobs } = s.requireProject()
      const dataset = getDataset(p.db, datasetId)
      const run = getRun(p.db, runId)
      if (!run.bestModel) throw new ApiError('bad_input', `Run “${run.name}” has no best checkpoint yet: train it for at least one epoch.`)
      return jobs.start('prelabel', `Pre-label “${dataset.name}” with run ${run.id} (“${run.name}”)`, { datasetId, runId })
    },
    async 'photos.confirmMask'({ id }) {
      const photo = getPhoto(s.requireProject().project.db, id)
      if (!photo.mask) throw new ApiError('bad_input', `${photo.name} has no mask to confirm.`)
      confirmMask(s.requireProject().project.db, id)
    },
    async 'labels.reviewQueue'({ datasetId }) {
      const p = project()
      getDataset(p.db, datasetId)
      return reviewQueue(p.db, datasetId)
    }
  }
}
