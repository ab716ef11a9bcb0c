// Per-pixel features for the pixel classifier, as in ilastik: a stack of filters at several scales.
//
// For an RGB photo (values 0–1), at the finest scale σ0 = 0.7:
//   colour      Gaussian-smoothed R, G, B, excess green (2G − R − B) and the chromaticities r = R/(R+G+B), g = G/(R+G+B)
//               (brightness-free: photos lit differently agree), and excess green less this photo's Otsu threshold of
//               it (so the forest learns "greener than this photo's split", which follows each photo's light)
// and for each scale σ in `sigmas` (0.7, 1.6, 3.5 by default), on the gray image (R + G + B)/3:
//   Gaussian    the smoothed gray, and the smoothed chromatic excess green (2G − R − B)/(R+G+B) (σ > σ0 only)
//   LoG         Laplacian of Gaussian, σ²(Lxx + Lyy): negative on a blob brighter than its surroundings
//   gradient    gradient magnitude, σ|∇L|
//   structure   the two eigenvalues of the structure tensor (∇L∇Lᵀ smoothed at σ): edges and corners
//   Hessian     the two eigenvalues of σ²[Lxx Lxy; Lxy Lyy]: ridges, veins, blobs
// Every filter is a separable Float32 Gaussian convolution (radius 3σ, mirrored borders) followed by central
// differences; scales from σ 2 up are filtered on the image at half size and resized back. Features are stored
// one plane after another (feature f of pixel i at f·n + i), so each filter writes its plane in order.
import type { Raster } from '../imaging/raster'

export const defaultSigmas = [0.7, 1.6, 3.5] as const
const colourFeatures = 7

/** How many features a pixel gets for these scales. */
export function featureCount(sigmas: readonly number[]): number {
  // colour + per scale: 2 Gaussians (except at the first scale) + LoG + gradient + 2 structure + 2 Hessian
  return colourFeatures + sigmas.length * 6 + (sigmas.length - 1) * 2
}

/** Names of the features, in order (for the README, tests and messages). */
export function featureNames(sigmas: readonly number[]): string[] {
  const names = ['R', 'G', 'B', 'ExG', 'r', 'g', 'ExG − Otsu'].map((n) => `${n} σ${sigmas[0]}`)
  sigmas.forEach((s, k) => {
    if (k > 0) names.push(`gray σ${s}`, `ExG σ${s}`)
    names.push(`LoG σ${s}`, `gradient σ${s}`, `structure λ1 σ${s}`, `structure λ2 σ${s}`, `Hessian λ1 σ${s}`, `Hessian λ2 σ${s}`)
  })
  return names
}

export interface Features {
  width: number
  height: number
  /** Features per pixel. */
  count: number
  /** Planes: feature f of pixel i is data[f * width * height + i]. */
  data: Float32Array
}

function kernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma))
  const k = new Float32Array(2 * radius + 1)
  let sum = 0
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma))
  for (let i = 0; i < k.length; i++) k[i] /= sum
  return k
}

/** Mirrored index (…2 1 0 1 2…), for radii larger than the image too. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0
  const period = 2 * (n - 1)
  i = Math.abs(i) % period
  return i < n ? i : period - i
}

/** Separable Gaussian blur of `src` into `out` (`tmp` is scratch of the same size). The kernel is symmetric: each tap pair is one multiply. */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number, out: Float32Array, tmp: Float32Array): void {
  const k = kernel(sigma)
  const r = (k.length - 1) >> 1
  const k0 = k[r]
  for (let y = 0; y < height; y++) {
    const row = y * width
    const inner0 = Math.min(r, width)
    const inner1 = Math.max(inner0, width - r)
    // borders mirrored, the inner part without index checks
    for (let x = 0; x < inner0; x++) {
      let s = 0
      for (let j = -r; j <= r; j++) s += k[j + r] * src[row + mirror(x + j, width)]
      tmp[row + x] = s
    }
    for (let x = inner0; x < inner1; x++) {
      const c = row + x
      let s = k0 * src[c]
      for (let j = 1; j <= r; j++) s += k[r + j] * (src[c - j] + src[c + j])
      tmp[c] = s
    }
    for (let x = inner1; x < width; x++) {
      let s = 0
      for (let j = -r; j <= r; j++) s += k[j + r] * src[row + mirror(x + j, width)]
      tmp[row + x] = s
    }
  }
  // vertical: whole rows at a time, so memory is read in order
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) out[row + x] = k0 * tmp[row + x]
    for (let j = 1; j <= r; j++) {
      const w = k[r + j]
      const up = mirror(y - j, height) * width
      const down = mirror(y + j, height) * width
      for (let x = 0; x < width; x++) out[row + x] += w * (tmp[up + x] + tmp[down + x])
    }
  }
}

/** Half the size, each pixel the mean of a 2×2 block (the last row or column alone when the size is odd). */
function halve(src: Float32Array, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const w = Math.ceil(width / 2)
  const h = Math.ceil(height / 2)
  const data = new Float32Array(w * h)
  for (let y = 0; y < h; y++) {
    const y0 = 2 * y
    const y1 = Math.min(height - 1, y0 + 1)
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x
      const x1 = Math.min(width - 1, x0 + 1)
      data[y * w + x] = (src[y0 * width + x0] + src[y0 * width + x1] + src[y1 * width + x0] + src[y1 * width + x1]) / 4
    }
  }
  return { data, width: w, height: h }
}

/**
 * The texture features of one scale (LoG, gradient, structure λ1 λ2, Hessian λ1 λ2) of the smoothed gray image `L`,
 * into the six planes `out[0..5]`.
 */
function textureFeatures(L: Float32Array, width: number, height: number, sigma: number, out: Float32Array[]): void {
  const n = width * height
  const ixx = new Float32Array(n)
  const ixy = new Float32Array(n)
  const iyy = new Float32Array(n)
  const [log, gradient, st1, st2, h1, h2] = out
  const s2 = sigma * sigma
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : Math.min(1, height - 1)) * width
    const down = (y < height - 1 ? y + 1 : Math.max(height - 2, 0)) * width
    const row = y * width
    for (let x = 0; x < width; x++) {
      const left = x > 0 ? x - 1 : Math.min(1, width - 1)
      const right = x < width - 1 ? x + 1 : Math.max(width - 2, 0)
      const c = L[row + x]
      const dx = (L[row + right] - L[row + left]) / 2
      const dy = (L[down + x] - L[up + x]) / 2
      const i = row + x
      ixx[i] = dx * dx
      ixy[i] = dx * dy
      iyy[i] = dy * dy
      const hxx = s2 * (L[row + right] - 2 * c + L[row + left])
      const hyy = s2 * (L[down + x] - 2 * c + L[up + x])
      const hxy = (s2 * (L[down + right] - L[down + left] - L[up + right] + L[up + left])) / 4
      log[i] = hxx + hyy
      gradient[i] = sigma * Math.sqrt(dx * dx + dy * dy)
      const half = (hxx + hyy) / 2
      const root = Math.sqrt(((hxx - hyy) * (hxx - hyy)) / 4 + hxy * hxy)
      h1[i] = half + root
      h2[i] = half - root
    }
  }
  const tmp = new Float32Array(n)
  const sxx = new Float32Array(n)
  const sxy = new Float32Array(n)
  gaussianBlur(ixx, width, height, sigma, sxx, tmp)
  gaussianBlur(ixy, width, height, sigma, sxy, tmp)
  gaussianBlur(iyy, width, height, sigma, ixx, tmp)
  for (let i = 0; i < n; i++) {
    const a = sxx[i]
    const c = ixx[i]
    const half = (a + c) / 2
    const root = Math.sqrt(((a - c) * (a - c)) / 4 + sxy[i] * sxy[i])
    st1[i] = s2 * (half + root)
    st2[i] = s2 * (half - root)
  }
}

/** Scales from this σ up are filtered on the image at half size (σ halved), then resized back (bilinear). */
const halfSizeFrom = 2

/**
 * The feature stack of an RGB (or RGBA) raster. Cost grows with pixels × Σ(radius): the caller scales large
 * photos down first (see pixel-classifier.ts).
 */
export function pixelFeatures(rgb: Raster, sigmas: readonly number[] = defaultSigmas): Features {
  const { width, height, channels } = rgb
  const n = width * height
  const count = featureCount(sigmas)
  const data = new Float32Array(n * count)
  const r = new Float32Array(n)
  const g = new Float32Array(n)
  const b = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    r[i] = rgb.data[i * channels] / 255
    g[i] = rgb.data[i * channels + 1] / 255
    b[i] = rgb.data[i * channels + 2] / 255
  }
  const tmp = new Float32Array(n)
  const rs = new Float32Array(n)
  const gs = new Float32Array(n)
  const bs = new Float32Array(n)
  gaussianBlur(r, width, height, sigmas[0], rs, tmp)
  gaussianBlur(g, width, height, sigmas[0], gs, tmp)
  gaussianBlur(b, width, height, sigmas[0], bs, tmp)
  const gray = new Float32Array(n)
  const exg = new Float32Array(n)
  const plane = (f: number): Float32Array => data.subarray(f * n, (f + 1) * n)
  for (let i = 0; i < n; i++) {
    gray[i] = (r[i] + g[i] + b[i]) / 3
    exg[i] = (2 * g[i] - r[i] - b[i]) / (r[i] + g[i] + b[i] + 0.05)
  }
  plane(0).set(rs)
  plane(1).set(gs)
  plane(2).set(bs)
  const [pe, prg, pyb] = [plane(3), plane(4), plane(5)]
  for (let i = 0; i < n; i++) {
    pe[i] = 2 * gs[i] - rs[i] - bs[i]
    const sum = rs[i] + gs[i] + bs[i] + 0.05
    prg[i] = rs[i] / sum
    pyb[i] = gs[i] / sum
  }
  const split = otsuThreshold(pe)
  const adaptive = plane(6)
  for (let i = 0; i < n; i++) adaptive[i] = pe[i] - split
  let f = colourFeatures
  const halfGray = sigmas.some((s, k) => k > 0 && s >= halfSizeFrom) && width >= 8 && height >= 8 ? halve(gray, width, height) : null
  const halfExg = halfGray && halve(exg, width, height)
  sigmas.forEach((sigma, k) => {
    const per = k > 0 ? 8 : 6
    const half = k > 0 && halfGray && halfExg && sigma >= halfSizeFrom
    if (!half) {
      const planes = Array.from({ length: per }, (_, j) => plane(f + j))
      const Ls = new Float32Array(n)
      // gray at σ0 is the mean of the smoothed channels already computed (the blur is linear)
      if (k === 0) for (let i = 0; i < n; i++) Ls[i] = (rs[i] + gs[i] + bs[i]) / 3
      else {
        gaussianBlur(gray, width, height, sigma, planes[0], tmp)
        gaussianBlur(exg, width, height, sigma, planes[1], tmp)
        Ls.set(planes[0])
      }
      textureFeatures(Ls, width, height, sigma, planes.slice(per - 6))
    } else {
      // at half size, σ halved (scale-normalised filters give the same values), then resized back
      const { width: w, height: h } = halfGray
      const m = w * h
      const planes = Array.from({ length: per }, () => new Float32Array(m))
      const scratch = new Float32Array(m)
      gaussianBlur(halfGray.data, w, h, sigma / 2, planes[0], scratch)
      gaussianBlur(halfExg.data, w, h, sigma / 2, planes[1], scratch)
      textureFeatures(planes[0], w, h, sigma / 2, planes.slice(2))
      planes.forEach((p, j) => resizeBilinear(p, w, h, width, height, plane(f + j)))
    }
    f += per
  })
  if (f !== count) throw new Error(`internal: ${f} features written, ${count} expected`)
  return { width, height, count, data }
}

/** Otsu's threshold of a set of values (256 bins between their least and greatest): the split with the most variance between the two sides. */
export function otsuThreshold(values: Float32Array): number {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (!(hi > lo)) return lo
  const bins = 256
  const histogram = new Float64Array(bins)
  const scale = (bins - 1) / (hi - lo)
  for (const v of values) histogram[Math.round((v - lo) * scale)]++
  let total = 0
  let sumAll = 0
  for (let i = 0; i < bins; i++) {
    total += histogram[i]
    sumAll += i * histogram[i]
  }
  let below = 0
  let sumBelow = 0
  let best = 0
  let bestBetween = -1
  for (let i = 0; i < bins - 1; i++) {
    below += histogram[i]
    sumBelow += i * histogram[i]
    const above = total - below
    if (below === 0 || above === 0) continue
    const d = sumBelow / below - (sumAll - sumBelow) / above
    const between = below * above * d * d
    if (between > bestBetween) {
      bestBetween = between
      best = i
    }
  }
  return lo + (best + 0.5) / scale
}

/** Bilinear resampling of a w×h map to width×height (pixel centres aligned), into `out`. */
export function resizeBilinear(
  map: Float32Array,
  w: number,
  h: number,
  width: number,
  height: number,
  out: Float32Array = new Float32Array(width * height)
): Float32Array {
  const x0s = new Int32Array(width)
  const x1s = new Int32Array(width)
  const txs = new Float32Array(width)
  for (let x = 0; x < width; x++) {
    const fx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / width - 0.5))
    x0s[x] = Math.floor(fx)
    x1s[x] = Math.min(w - 1, x0s[x] + 1)
    txs[x] = fx - x0s[x]
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / height - 0.5))
    const y0 = Math.floor(fy)
    const r0 = y0 * w
    const r1 = Math.min(h - 1, y0 + 1) * w
    const ty = fy - y0
    const row = y * width
    for (let x = 0; x < width; x++) {
      const a = x0s[x]
      const b = x1s[x]
      const tx = txs[x]
      const top = map[r0 + a] + (map[r0 + b] - map[r0 + a]) * tx
      const bottom = map[r1 + a] + (map[r1 + b] - map[r1 + a]) * tx
      out[row + x] = top + (bottom - top) * ty
    }
  }
  return out
}
