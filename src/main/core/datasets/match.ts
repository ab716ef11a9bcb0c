// Pairing mask files with photos by file name (case-insensitive, extensions ignored).
// A mask matches a photo when, after these rules, their names are equal:
//   1. the same name:                 IMG_1.jpg  <- IMG_1.png
//   2. name + a suffix:               IMG_1.jpg  <- IMG_1_mask.png   (suffixes configurable)
//   3. a prefix pair:                 rgb_X.png  <- label_X.png      (configurable, or found automatically
//                                     when every photo starts with one word and every mask with another)
// Rules 2 and 3 combine (label_X_mask.png). Rule 1 wins over 2, 2 over 3.
import { hasImageExtension, stemOf } from './util'

export const DEFAULT_MASK_SUFFIXES = ['_mask', '_masks', '_fg', '_label', '_labels', '-mask', '_seg', '.mask']

export interface PrefixPair {
  photo: string
  mask: string
}

export interface MatchOptions {
  /** Suffixes a mask name may add to its photo's name (default DEFAULT_MASK_SUFFIXES). */
  suffixes?: string[]
  /** Prefix pairs, e.g. { photo: 'rgb_', mask: 'label_' }. */
  prefixes?: PrefixPair[]
  /** Look for a prefix pair shared by all photos and all masks (default true). */
  autoPrefix?: boolean
}

export interface MaskMatch {
  photo: string
  mask: string
  rule: 'same-name' | 'suffix' | 'prefix'
}

export interface Unmatched {
  path: string
  reason: string
}

export interface MatchResult {
  pairs: MaskMatch[]
  unmatchedPhotos: Unmatched[]
  unmatchedMasks: Unmatched[]
  /** The prefix pair found automatically, if any (so the UI can show it). */
  detectedPrefix?: PrefixPair
}

/** Pair masks with photos (paths in, paths out). Deterministic: inputs are sorted. */
export function matchMasksToPhotos(photos: string[], masks: string[], opts: MatchOptions = {}): MatchResult {
  const suffixes = [...(opts.suffixes ?? DEFAULT_MASK_SUFFIXES)].map((s) => s.toLowerCase()).sort((a, b) => b.length - a.length)
  const prefixes = (opts.prefixes ?? []).map((p) => ({ photo: p.photo.toLowerCase(), mask: p.mask.toLowerCase() }))
  const detectedPrefix = opts.autoPrefix === false ? undefined : detectPrefixPair(photos, masks)
  if (detectedPrefix) prefixes.push({ photo: detectedPrefix.photo.toLowerCase(), mask: detectedPrefix.mask.toLowerCase() })

  const photosByKey = new Map<string, string[]>()
  for (const p of [...photos].sort()) {
    const key = stemOf(p).toLowerCase()
    photosByKey.set(key, [...(photosByKey.get(key) ?? []), p])
  }

  // Every candidate key a mask name could stand for, best rule first.
  const candidates = (mask: string): Array<{ key: string; rule: MaskMatch['rule'] }> => {
    const stem = stemOf(mask).toLowerCase()
    const out: Array<{ key: string; rule: MaskMatch['rule'] }> = [{ key: stem, rule: 'same-name' }]
    // IMG_1.jpg.png: the photo's whole name plus the mask's extension.
    if (hasImageExtension(stem)) out.push({ key: stemOf(stem), rule: 'same-name' })
    const unsuffixed = suffixes.filter((s) => stem.endsWith(s) && stem.length > s.length).map((s) => stem.slice(0, -s.length))
    for (const key of unsuffixed) out.push({ key, rule: 'suffix' })
    for (const base of [stem, ...unsuffixed]) {
      for (const p of prefixes) if (base.startsWith(p.mask)) out.push({ key: p.photo + base.slice(p.mask.length), rule: 'prefix' })
    }
    return out
  }

  const taken = new Map<string, MaskMatch>()
  const pairs: MaskMatch[] = []
  const unmatchedMasks: Unmatched[] = []
  for (const mask of [...masks].sort()) {
    const found = candidates(mask).find((c) => photosByKey.has(c.key))
    if (!found) {
      unmatchedMasks.push({ path: mask, reason: 'no photo has a matching name' })
      continue
    }
    const same = photosByKey.get(found.key)!
    if (same.length > 1) {
      unmatchedMasks.push({ path: mask, reason: `several photos have this name: ${same.join(', ')}` })
      continue
    }
    const photo = same[0]
    const earlier = taken.get(photo)
    if (earlier) {
      unmatchedMasks.push({ path: mask, reason: `the photo ${photo} already has the mask ${earlier.mask}` })
      continue
    }
    const match = { photo, mask, rule: found.rule }
    taken.set(photo, match)
    pairs.push(match)
  }
  const unmatchedPhotos = [...photos]
    .sort()
    .filter((p) => !taken.has(p))
    .map((path) => ({ path, reason: 'no mask has a matching name' }))
  return { pairs, unmatchedPhotos, unmatchedMasks, detectedPrefix }
}

/**
 * A prefix pair when every photo name starts with one word and every mask name with another
 * (a word ends at the first '_' or '-', which is kept): rgb_00.png / label_00.png -> { photo: 'rgb_', mask: 'label_' }.
 */
export function detectPrefixPair(photos: string[], masks: string[]): PrefixPair | undefined {
  const shared = (paths: string[]): string | undefined => {
    let first: string | undefined
    for (const p of paths) {
      const m = /^[^_-]+[_-]/.exec(stemOf(p).toLowerCase())
      if (!m) return undefined
      if (first === undefined) first = m[0]
      else if (m[0] !== first) return undefined
    }
    return first
  }
  if (photos.length === 0 || masks.length === 0) return undefined
  const photo = shared(photos)
  const mask = shared(masks)
  return photo && mask && photo !== mask ? { photo, mask } : undefined
}

export type PhotoLookup = (name: string) => { photo: string } | { ambiguous: string[] } | undefined

/**
 * Find a photo by a name from an export (file_name, global key, external id, URL): by base name first,
 * then by name without extension; case-insensitive; folders and URL queries ignored.
 */
export function makePhotoLookup(photos: string[]): PhotoLookup {
  const byName = new Map<string, string[]>()
  const byStem = new Map<string, string[]>()
  const add = (map: Map<string, string[]>, key: string, p: string): void => {
    map.set(key, [...(map.get(key) ?? []), p])
  }
  for (const p of photos) {
    add(byName, baseName(p), p)
    add(byStem, stemOf(baseName(p)), p)
  }
  return (name) => {
    const base = baseName(name)
    const found = byName.get(base) ?? byStem.get(base) ?? byStem.get(stemOf(base))
    if (!found) return undefined
    return found.length === 1 ? { photo: found[0] } : { ambiguous: found }
  }
}

function baseName(name: string): string {
  let s = name.split(/[?#]/)[0]
  try {
    s = decodeURIComponent(s)
  } catch {
    // not URL-encoded
  }
  return (s.split(/[\\/]/).pop() ?? s).toLowerCase()
}

/**
 * Split one folder's files into photos and masks when both were dropped together: a file is a mask when its
 * name is another file's name plus a mask suffix (IMG_1_mask.png beside IMG_1.jpg). Everything else is a photo.
 */
export function separateMasks(paths: string[], opts: { suffixes?: string[] } = {}): { photos: string[]; masks: string[] } {
  const suffixes = (opts.suffixes ?? DEFAULT_MASK_SUFFIXES).map((s) => s.toLowerCase())
  const stems = new Set(paths.map((p) => stemOf(p).toLowerCase()))
  const isMask = (p: string): boolean => {
    const stem = stemOf(p).toLowerCase()
    return suffixes.some((s) => stem.endsWith(s) && stem.length > s.length && stems.has(stem.slice(0, -s.length)))
  }
  return { photos: paths.filter((p) => !isMask(p)), masks: paths.filter(isMask) }
}
