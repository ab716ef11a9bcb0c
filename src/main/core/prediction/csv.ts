// Leaf measurements as CSV, one row per photo.
//
// Columns (header line first, in this order):
//   photo                file name (or project-relative path) of the photo
//   width, height        photo size in pixels
//   area_px              leaf area: pixels of all counted leaves
//   area_mm2             area_px / scale_px_per_mm²; empty when no scale is set
//   foreground_fraction  area_px / (width × height), 0..1
//   leaf_count           leaves told apart by a run that separates leaves, of at least min_leaf_area_px pixels;
//   or region_count      in its place when the leaves were not told apart: connected components (8-connectivity) of
//                        the mask of at least min_leaf_area_px pixels (touching leaves are one region)
//   min_leaf_area_px     the minimum used; smaller components are noise
//   noise_px             leaf pixels in components below the minimum (not in area_px)
//   scale_px_per_mm      pixels per millimetre; empty when unknown
//   source               'predicted' (from a model's mask) or 'labelled' (from a hand-made mask)
//   run_id               the training run whose model predicted the mask; empty for labelled masks
//   threshold            probability threshold that made the predicted mask; empty for labelled masks
//   perimeter_px … vari  the traits of all the photo's leaves together (TRAIT_COLUMNS; prediction/traits.ts),
//                        empty where not measured (labelled masks)
//
// The per-leaf CSV (beside it, `<name>.leaves.csv`): photo, leaf (1 = largest), centroid_x, centroid_y,
// area_px, area_mm2, the same trait columns, scale_px_per_mm; one row per leaf (per region where the leaves were not
// told apart; its second column is then `region`).
//
// Format: UTF-8 without byte-order mark, comma-separated, '\n' line ends, '.' as decimal point whatever the locale.
// A field is quoted ("…", inner quotes doubled) when it holds a comma, a quote, a line break or leading/trailing
// spaces (RFC 4180). Empty field = no value. Numbers are written as JavaScript prints them (shortest exact form,
// possibly 1.5e-7), which R, pandas and spreadsheets read. Names are written as they are, not defused against
// spreadsheet formulas: a name starting with '=' stays a name in R and pandas, and altering data is worse.
import type { LeafMeasurement } from './measure'
import type { LeafTraits, MeasurementRow, Traits } from '../../../shared/api/prediction'
import { writeAtomic } from '../store/atomic'

export type { MeasurementRow }

/** Trait columns and the Traits field each holds (lengths in px and mm, areas in px and mm²). */
const TRAITS: [string, keyof Traits][] = [
  ['perimeter_px', 'perimeterPx'],
  ['perimeter_mm', 'perimeterMm'],
  ['convex_hull_area_px', 'convexHullAreaPx'],
  ['convex_hull_area_mm2', 'convexHullAreaMm2'],
  ['solidity', 'solidity'],
  ['bbox_width_px', 'bboxWidthPx'],
  ['bbox_height_px', 'bboxHeightPx'],
  ['ellipse_major_px', 'ellipseMajorPx'],
  ['ellipse_minor_px', 'ellipseMinorPx'],
  ['ellipse_major_mm', 'ellipseMajorMm'],
  ['ellipse_minor_mm', 'ellipseMinorMm'],
  ['eccentricity', 'eccentricity'],
  ['mean_r', 'meanR'],
  ['mean_g', 'meanG'],
  ['mean_b', 'meanB'],
  ['hue_circular_mean', 'hueCircularMean'],
  ['exg', 'exg'],
  ['gli', 'gli'],
  ['vari', 'vari']
]
export const TRAIT_COLUMNS = TRAITS.map(([column]) => column)
const FIGURE_COLUMNS = [
  'photo',
  'width',
  'height',
  'area_px',
  'area_mm2',
  'foreground_fraction',
  'leaf_count',
  'min_leaf_area_px',
  'noise_px',
  'scale_px_per_mm',
  'source',
  'run_id',
  'threshold'
] as const
/** The per-photo CSV's header: `leaf_count` when the leaves were told apart, else `region_count` (a file is one run's). */
export function measurementColumns(leavesSeparated: boolean): string[] {
  return [...FIGURE_COLUMNS, ...TRAIT_COLUMNS].map((c) => (c === 'leaf_count' && !leavesSeparated ? 'region_count' : c))
}
export const LEAF_COLUMNS = ['photo', 'leaf', 'centroid_x', 'centroid_y', 'area_px', 'area_mm2', ...TRAIT_COLUMNS, 'scale_px_per_mm']

const traitFields = (t: Traits | null | undefined) => TRAITS.map(([, key]) => (t ? t[key] : null))

/** A CSV row from a measurement and where its mask came from. */
export function measurementRow(
  photo: string,
  m: LeafMeasurement,
  origin: { source: 'labelled' } | { source: 'predicted'; runId: string; threshold: number }
): MeasurementRow {
  return {
    photo,
    width: m.width,
    height: m.height,
    areaPx: m.areaPx,
    areaMm2: m.areaMm2,
    foregroundFraction: m.foregroundFraction,
    leafCount: m.leafCount,
    minLeafAreaPx: m.minLeafAreaPx,
    noisePx: m.noisePx,
    scalePxPerMm: m.pixelsPerMm,
    leavesSeparated: m.leavesSeparated,
    source: origin.source,
    runId: origin.source === 'predicted' ? origin.runId : null,
    threshold: origin.source === 'predicted' ? origin.threshold : null
  }
}

/** One CSV field, quoted when needed. */
export function csvField(value: string | number | null): string {
  if (value === null) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

export function measurementsCsv(rows: MeasurementRow[]): string {
  const leaves = rows.length > 0 && rows.every((r) => r.leavesSeparated)
  const lines = [measurementColumns(leaves).join(',')]
  for (const r of rows) {
    lines.push(
      [
        r.photo,
        r.width,
        r.height,
        r.areaPx,
        r.areaMm2,
        r.foregroundFraction,
        r.leafCount,
        r.minLeafAreaPx,
        r.noisePx,
        r.scalePxPerMm,
        r.source,
        r.runId,
        r.threshold,
        ...traitFields(r.traits)
      ]
        .map(csvField)
        .join(',')
    )
  }
  return lines.join('\n') + '\n'
}

/** The photos' leaves (regions where they were not told apart), one row each. */
export function leavesCsv(photos: { photo: string; leaves: LeafTraits[]; scalePxPerMm: number | null }[], leavesSeparated: boolean): string {
  const lines = [LEAF_COLUMNS.map((c) => (c === 'leaf' && !leavesSeparated ? 'region' : c)).join(',')]
  for (const p of photos)
    for (const l of p.leaves)
      lines.push([p.photo, l.leaf, l.centroidX, l.centroidY, l.areaPx, l.areaMm2, ...traitFields(l), p.scalePxPerMm].map(csvField).join(','))
  return lines.join('\n') + '\n'
}

/** Where the per-leaf CSV goes: beside the per-photo one, `areas.csv` → `areas.leaves.csv`. */
export function leavesCsvPath(photoCsv: string): string {
  return photoCsv.toLowerCase().endsWith('.csv') ? `${photoCsv.slice(0, -4)}.leaves.csv` : `${photoCsv}.leaves.csv`
}

/** Write the CSV atomically (store/atomic), so a reader never sees half a file. */
export async function writeMeasurementsCsv(path: string, rows: MeasurementRow[]): Promise<void> {
  await writeCsv(path, measurementsCsv(rows))
}

export async function writeLeavesCsv(
  path: string,
  photos: { photo: string; leaves: LeafTraits[]; scalePxPerMm: number | null }[],
  leavesSeparated: boolean
): Promise<void> {
  await writeCsv(path, leavesCsv(photos, leavesSeparated))
}

async function writeCsv(path: string, text: string): Promise<void> {
  await writeAtomic(path, text, `the measurements file ${path}`)
}
