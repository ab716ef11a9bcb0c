// Foreground colours for cutouts: multilevel estimation (Germer et al. 2020, pymatting's estimate_foreground_ml).
// At an edge pixel the photo mixes leaf and background, I = αF + (1−α)B; solving for F per pixel with a
// smoothness term towards the neighbours' F and B removes the background colour bleeding into the leaf rim.
// The solve runs coarse to fine: a few sweeps per level, each level started from the level below, resized.

export interface ForegroundOptions {
  /** Pull of every neighbour regardless of alpha edges; default 1e-5. */
  regularization?: number
  /** Extra pull of a neighbour in proportion to the alpha difference; default 1. */
  gradientWeight?: number
  /** Sweeps per level while the level is at most smallSize on both sides; default 10. */
  smallIterations?: number
  /** Sweeps per larger level; default 2. */
  bigIterations?: number
  smallSize?: number
}

/** Nearest-neighbour resize of `channels`-channel float pixels. */
function resizeNearest(src: Float32Array, sw: number, sh: number, dw: number, dh: number, channels: number): Float32Array {
  const dst = new Float32Array(dw * dh * channels)
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor((y * sh) / dh))
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(sw - 1, Math.floor((x * sw) / dw))
      const s = (sy * sw + sx) * channels
      const d = (y * dw + x) * channels
      for (let c = 0; c < channels; c++) dst[d + c] = src[s + c]
    }
  }
  return dst
}

/**
 * Estimated foreground colour (RGB, 0..1, 3 floats per pixel) of an RGB photo given its alpha matte.
 * Also returns the estimated background colour.
 */
export function estimateForeground(
  rgb: Uint8Array,
  alpha: Float32Array,
  width: number,
  height: number,
  options: ForegroundOptions & { signal?: AbortSignal } = {}
): { foreground: Float32Array; background: Float32Array } {
  const n = width * height
  if (rgb.length !== n * 3) throw new Error(`the photo has ${rgb.length} bytes but ${width}×${height} RGB needs ${n * 3}`)
  if (alpha.length !== n) throw new Error(`the alpha matte has ${alpha.length} pixels but the photo has ${n}`)
  const regularization = options.regularization ?? 1e-5
  const gradientWeight = options.gradientWeight ?? 1
  const smallIterations = options.smallIterations ?? 10
  const bigIterations = options.bigIterations ?? 2
  const smallSize = options.smallSize ?? 32

  const image = new Float32Array(n * 3)
  for (let i = 0; i < n * 3; i++) image[i] = rgb[i] / 255

  // Start from the mean colour of the sure foreground and sure background.
  const meanF = [0, 0, 0]
  const meanB = [0, 0, 0]
  let countF = 0
  let countB = 0
  for (let p = 0; p < n; p++) {
    if (alpha[p] > 0.9) {
      for (let c = 0; c < 3; c++) meanF[c] += image[3 * p + c]
      countF++
    }
    if (alpha[p] < 0.1) {
      for (let c = 0; c < 3; c++) meanB[c] += image[3 * p + c]
      countB++
    }
  }
  let foreground: Float32Array = Float32Array.from(meanF, (v) => v / Math.max(1, countF))
  let background: Float32Array = Float32Array.from(meanB, (v) => v / Math.max(1, countB))
  let prevW = 1
  let prevH = 1

  const levels = Math.max(1, Math.ceil(Math.log2(Math.max(width, height))))
  const dx = [-1, 1, 0, 0]
  const dy = [0, 0, -1, 1]
  for (let level = 0; level <= levels; level++) {
    options.signal?.throwIfAborted()
    const w = Math.round(width ** (level / levels))
    const h = Math.round(height ** (level / levels))
    const img = level === levels ? image : resizeNearest(image, width, height, w, h, 3)
    const a = level === levels ? alpha : resizeNearest(alpha, width, height, w, h, 1)
    const f = resizeNearest(foreground, prevW, prevH, w, h, 3)
    const b = resizeNearest(background, prevW, prevH, w, h, 3)
    const sweeps = w <= smallSize && h <= smallSize ? smallIterations : bigIterations
    for (let sweep = 0; sweep < sweeps; sweep++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const p = y * w + x
          const a0 = a[p]
          const a1 = 1 - a0
          let m00 = a0 * a0
          const m01 = a0 * a1
          let m11 = a1 * a1
          let f0 = a0 * img[3 * p]
          let f1 = a0 * img[3 * p + 1]
          let f2 = a0 * img[3 * p + 2]
          let b0 = a1 * img[3 * p]
          let b1 = a1 * img[3 * p + 1]
          let b2 = a1 * img[3 * p + 2]
          for (let d = 0; d < 4; d++) {
            const q = Math.min(h - 1, Math.max(0, y + dy[d])) * w + Math.min(w - 1, Math.max(0, x + dx[d]))
            const weight = regularization + gradientWeight * Math.abs(a0 - a[q])
            m00 += weight
            m11 += weight
            f0 += weight * f[3 * q]
            f1 += weight * f[3 * q + 1]
            f2 += weight * f[3 * q + 2]
            b0 += weight * b[3 * q]
            b1 += weight * b[3 * q + 1]
            b2 += weight * b[3 * q + 2]
          }
          // Solve the 2×2 system [m00 m01; m01 m11] [F; B] = [f; b] per channel, clamped to 0..1.
          const inv = 1 / (m00 * m11 - m01 * m01)
          const i00 = m11 * inv
          const i01 = -m01 * inv
          const i11 = m00 * inv
          f[3 * p] = Math.min(1, Math.max(0, i00 * f0 + i01 * b0))
          f[3 * p + 1] = Math.min(1, Math.max(0, i00 * f1 + i01 * b1))
          f[3 * p + 2] = Math.min(1, Math.max(0, i00 * f2 + i01 * b2))
          b[3 * p] = Math.min(1, Math.max(0, i01 * f0 + i11 * b0))
          b[3 * p + 1] = Math.min(1, Math.max(0, i01 * f1 + i11 * b1))
          b[3 * p + 2] = Math.min(1, Math.max(0, i01 * f2 + i11 * b2))
        }
      }
    }
    foreground = f
    background = b
    prevW = w
    prevH = h
  }
  return { foreground, background }
}

/**
 * A cutout: RGBA pixels with alpha as transparency. Colours are the photo's, or the estimated foreground
 * (0..1 floats from estimateForeground) when given, which keeps background colour out of the leaf's rim.
 */
export function makeCutout(
  rgb: Uint8Array,
  alpha: Float32Array,
  width: number,
  height: number,
  foreground?: Float32Array
): { width: number; height: number; channels: 4; data: Uint8Array } {
  const n = width * height
  if (rgb.length !== n * 3) throw new Error(`the photo has ${rgb.length} bytes but ${width}×${height} RGB needs ${n * 3}`)
  if (alpha.length !== n) throw new Error(`the alpha matte has ${alpha.length} pixels but the photo has ${n}`)
  if (foreground && foreground.length !== n * 3) throw new Error('the foreground colours do not match the photo size')
  const data = new Uint8Array(n * 4)
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[4 * p + c] = foreground ? Math.round(foreground[3 * p + c] * 255) : rgb[3 * p + c]
    data[4 * p + 3] = Math.round(Math.min(1, Math.max(0, alpha[p])) * 255)
  }
  return { width, height, channels: 4, data }
}
