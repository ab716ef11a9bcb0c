// Leaf traits on generated shapes, against hand-computed values and against OpenCV's own contour functions
// (python3-opencv, a native build independent of the opencv-wasm Leafseg uses).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { Raster } from '../../src/main/core/imaging/raster'
import { writePng } from '../../src/main/core/imaging/raster'
import { greenness, hueRadians, leafTraits } from '../../src/main/core/prediction/traits'
import { tempDir } from '../helpers/temp'

const W = 160
const H = 120

/** A mask and a photo: the shapes' pixels get `colour(x, y)`, the rest black. */
function scene(
  inside: (x: number, y: number) => boolean,
  colour: (x: number, y: number) => [number, number, number] = () => [60, 150, 40]
): { mask: Raster; rgb: Raster } {
  const mask = new Uint8Array(W * H)
  const rgb = new Uint8Array(W * H * 3)
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (inside(x, y)) {
        mask[y * W + x] = 255
        rgb.set(colour(x, y), (y * W + x) * 3)
      }
  return { mask: { width: W, height: H, channels: 1, data: mask }, rgb: { width: W, height: H, channels: 3, data: rgb } }
}

const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
const square = (left: number, top: number, side: number) => (x: number, y: number) => x >= left && x < left + side && y >= top && y < top + side
const ring = (cx: number, cy: number, outer: number, inner: number) => (x: number, y: number) => disc(cx, cy, outer)(x, y) && !disc(cx, cy, inner)(x, y)
const close = (actual: number, expected: number, relative: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual}, expected ${expected} ± ${relative * 100}%`)

test('a 20×20 square: every trait by hand', () => {
  const { mask, rgb } = scene(square(30, 40, 20))
  const { leaves, photo } = leafTraits(mask, rgb, { pixelsPerMm: 10 })
  assert.equal(leaves.length, 1)
  const t = leaves[0]
  // The contour runs through the centres of the border pixels: a 19×19 square.
  assert.deepEqual([t.areaPx, t.perimeterPx, t.convexHullAreaPx, t.solidity, t.bboxWidthPx, t.bboxHeightPx], [400, 76, 361, 1, 20, 20])
  // Pixel coordinates 0..19 have variance (20² − 1) / 12 on each axis, no covariance: a circle of axis 4·√33.25.
  close(t.ellipseMajorPx, 4 * Math.sqrt(399 / 12), 1e-12, 'major axis')
  close(t.ellipseMinorPx, 4 * Math.sqrt(399 / 12), 1e-12, 'minor axis')
  assert.ok(t.eccentricity < 1e-6)
  assert.deepEqual([t.centroidX, t.centroidY], [39.5, 49.5])
  assert.deepEqual([t.areaMm2, t.perimeterMm, t.convexHullAreaMm2], [4, 7.6, 3.61])
  // Colour (60, 150, 40): hue 60·((40 − 60)/110 + 2)°, ExG (300 − 100)/250, GLI 200/400, VARI 90/170.
  assert.deepEqual([t.meanR, t.meanG, t.meanB], [60, 150, 40])
  close(t.hueCircularMean!, 60 * (-20 / 110 + 2), 1e-9, 'hue')
  close(t.exg!, 0.8, 1e-12, 'ExG')
  close(t.gli!, 0.5, 1e-12, 'GLI')
  close(t.vari!, 90 / 170, 1e-12, 'VARI')
  assert.deepEqual(photo, (({ leaf: _l, centroidX: _x, centroidY: _y, ...rest }) => rest)(t), 'one leaf: the photo’s traits are the leaf’s')
})

test('a disc and a ring: areas, axes and eccentricity from their formulas', () => {
  const r = 30
  const d = leafTraits(...(Object.values(scene(disc(60, 60, r))) as [Raster, Raster])).leaves[0]
  close(d.areaPx, Math.PI * r * r, 0.01, 'disc area')
  close(d.ellipseMajorPx, 2 * r, 0.01, 'disc major axis (a disc of radius r has λ = r²/4)')
  close(d.ellipseMinorPx, 2 * r, 0.01, 'disc minor axis')
  assert.ok(d.eccentricity < 0.05, `disc eccentricity ${d.eccentricity}`)
  close(d.perimeterPx, 2 * Math.PI * r, 0.06, 'disc perimeter')
  assert.ok(d.solidity! > 0.97 && d.solidity! <= 1, `disc solidity ${d.solidity}`)
  assert.deepEqual([d.bboxWidthPx, d.bboxHeightPx], [2 * r + 1, 2 * r + 1])

  const ringed = leafTraits(...(Object.values(scene(ring(60, 60, 30, 15))) as [Raster, Raster])).leaves[0]
  close(ringed.areaPx, Math.PI * (30 ** 2 - 15 ** 2), 0.015, 'ring area (the hole is not leaf)')
  // A ring's second moments: λ = (R² + r²) / 4, so each axis is 2·√(R² + r²).
  close(ringed.ellipseMajorPx, 2 * Math.sqrt(30 ** 2 + 15 ** 2), 0.01, 'ring axis')
  // Solidity and hull follow the outer contour (as PlantCV's do): the hole does not lower them.
  close(ringed.convexHullAreaPx, d.convexHullAreaPx, 1e-9, 'ring hull = disc hull')
  assert.ok(ringed.solidity! > 0.97)
})

test('two leaves: each on its own, the photo over both; the hue mean is circular', () => {
  // Left half of the square hue 350°, right half 10°: the circular mean is 0°, not 180°.
  const twoHues = (x: number): [number, number, number] => (x < 40 ? [240, 0, 40] : [240, 40, 0])
  const { mask, rgb } = scene((x, y) => square(30, 40, 20)(x, y) || disc(120, 60, 10)(x, y), twoHues)
  const { photo, leaves } = leafTraits(mask, rgb)
  assert.equal(leaves.length, 2)
  assert.deepEqual(
    leaves.map((l) => l.leaf),
    [1, 2]
  )
  assert.equal(leaves[0].areaPx, 400)
  const h = leaves[0].hueCircularMean!
  assert.ok(Math.min(h, 360 - h) < 1e-6, `hue mean ${h}`)
  assert.equal(photo!.areaPx, leaves[0].areaPx + leaves[1].areaPx)
  close(photo!.perimeterPx, leaves[0].perimeterPx + leaves[1].perimeterPx, 1e-12, 'photo perimeter')
  assert.deepEqual([photo!.bboxWidthPx, photo!.bboxHeightPx], [130 - 30 + 1, 70 - 40 + 1])
  assert.ok(photo!.convexHullAreaPx > leaves[0].convexHullAreaPx + leaves[1].convexHullAreaPx, 'one hull around both')
  assert.ok(photo!.solidity! < 0.7)
  // Without leaves there are no traits; a speck below the minimum is no leaf.
  assert.deepEqual(leafTraits(scene(() => false).mask, scene(() => false).rgb), { photo: null, leaves: [] })
  assert.equal(leafTraits(mask, rgb, { minLeafAreaPx: 350 }).leaves.length, 1)
})

test('hue and greenness index edge cases', () => {
  assert.equal(hueRadians(80, 80, 80), null)
  close(hueRadians(0, 0, 200)!, (4 * Math.PI) / 3, 1e-12, 'blue is 240°')
  assert.deepEqual(greenness(0, 0, 0), { exg: null, gli: null, vari: null })
  assert.equal(greenness(100, 50, 150).vari, null, 'G + R − B = 0')
})

const cv2 = spawnSync('/usr/bin/python3', ['-c', 'import cv2'], { encoding: 'utf8' })
test(
  'perimeter, hull, contour area and moments equal OpenCV’s (python3-opencv); its fitEllipse agrees on the axes',
  { skip: cv2.status !== 0 && 'python3-opencv is not installed' },
  async () => {
    const dir = tempDir()
    // A rotated ellipse, a ring and a square, apart.
    const rotated = (x: number, y: number) => {
      const a = Math.PI / 6
      const u = (x - 45) * Math.cos(a) + (y - 60) * Math.sin(a)
      const v = -(x - 45) * Math.sin(a) + (y - 60) * Math.cos(a)
      return (u / 32) ** 2 + (v / 14) ** 2 <= 1
    }
    const shapes = [rotated, ring(115, 35, 22, 9), square(100, 80, 25)]
    const ours = shapes.map((inside) => {
      const { mask, rgb } = scene(inside)
      return leafTraits(mask, rgb).leaves[0]
    })
    const files = await Promise.all(
      shapes.map(async (inside, k) => {
        const file = join(dir, `shape${k}.png`)
        await writePng(file, scene(inside).mask)
        return file
      })
    )
    const script = `
import cv2, json, sys, math
out = []
for f in sys.argv[1:]:
    m = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
    cs, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(cs, key=len)
    hull = cv2.convexHull(c)
    mo = cv2.moments(m, binaryImage=True)
    a, b, cc = mo['mu20'] / mo['m00'], mo['mu11'] / mo['m00'], mo['mu02'] / mo['m00']
    root = math.sqrt(((a - cc) / 2) ** 2 + b * b)
    (_, _), (e1, e2), _ = cv2.fitEllipse(c)
    out.append({'perimeter': cv2.arcLength(c, True), 'area': cv2.contourArea(c), 'hull': cv2.contourArea(hull),
                'major': 4 * math.sqrt((a + cc) / 2 + root), 'minor': 4 * math.sqrt((a + cc) / 2 - root),
                'fitMajor': max(e1, e2), 'fitMinor': min(e1, e2), 'pixels': mo['m00']})
print(json.dumps(out))`
    const run = spawnSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const theirs = JSON.parse(run.stdout) as {
      perimeter: number
      area: number
      hull: number
      major: number
      minor: number
      fitMajor: number
      fitMinor: number
      pixels: number
    }[]
    ours.forEach((t, k) => {
      close(t.perimeterPx, theirs[k].perimeter, 1e-9, `shape ${k} perimeter`)
      close(t.convexHullAreaPx, theirs[k].hull, 1e-9, `shape ${k} hull area`)
      close(t.solidity!, theirs[k].area / theirs[k].hull, 1e-9, `shape ${k} solidity`)
      assert.equal(t.areaPx, theirs[k].pixels, `shape ${k} pixels`)
      close(t.ellipseMajorPx, theirs[k].major, 1e-6, `shape ${k} major axis from moments`)
      close(t.ellipseMinorPx, theirs[k].minor, 1e-6, `shape ${k} minor axis from moments`)
    })
    // fitEllipse fits the contour, not the moments: on the filled ellipse both give the ellipse's own axes.
    close(ours[0].ellipseMajorPx, theirs[0].fitMajor, 0.04, 'ellipse major vs fitEllipse')
    close(ours[0].ellipseMinorPx, theirs[0].fitMinor, 0.08, 'ellipse minor vs fitEllipse')
    close(ours[0].ellipseMajorPx, 64, 0.03, 'the drawn ellipse is 64 px long')
    close(ours[0].ellipseMinorPx, 28, 0.05, 'and 28 px wide')
  }
)
