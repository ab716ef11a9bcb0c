// Closed-form matting (Levin, Lischinski & Weiss 2008), as in pymatting's estimate_alpha_cf:
// matting Laplacian over 3×3 windows, alpha fixed to 0/1 on known trimap pixels, and the rows of the
// unknown pixels solved with conjugate gradients preconditioned by thresholded incomplete Cholesky.
import { choleskyPreconditioner, choleskySolve, conjugateGradients, type CsrMatrix } from './sparse'
import { TRIMAP_BACKGROUND, TRIMAP_FOREGROUND, validateTrimap } from './trimap'

export interface ClosedFormOptions {
  /** Regularisation of the colour covariance in each window (colours in 0..1); default 1e-7. */
  epsilon?: number
  /** CG stops when ‖residual‖ ≤ tolerance·‖right-hand side‖; default 5e-6 (pymatting: 1e-7). */
  tolerance?: number
  /** Default 10000. */
  maxIterations?: number
  /**
   * Incomplete Cholesky drops factor entries smaller than this; default 5e-4 (pymatting: 1e-4).
   * On the alphamatting set the defaults give pymatting's mean SAD and MSE (5.324 / 21.80 against an exact
   * solve's 5.325 / 21.81) in roughly 70% of the time that pymatting's settings take here (measured on a shared
   * 2-core machine): a sparser factor, a few more iterations.
   */
  dropTolerance?: number
  signal?: AbortSignal
}

export interface MatteResult {
  /** Alpha per pixel, 0..1, row-major. */
  alpha: Float32Array
  width: number
  height: number
  unknownPixels: number
  iterations: number
  relativeResidual: number
}

// Offsets between two pixels of one 3×3 window span a 5×5 neighbourhood: index (dy+2)*5 + (dx+2).
const STENCIL = 25

/**
 * The linear system of the unknown pixels: L_UU x = −L_UK α_K, with L the matting Laplacian.
 * Only windows that contain an unknown pixel are visited, and only unknown rows are kept.
 */
export function buildMattingSystem(
  rgb: Uint8Array,
  trimap: Uint8Array,
  width: number,
  height: number,
  epsilon: number
): { matrix: CsrMatrix; rhs: Float64Array; unknownIndex: Int32Array } {
  const n = width * height
  const unknownIndex = new Int32Array(n).fill(-1)
  let unknownCount = 0
  for (let p = 0; p < n; p++) {
    const t = trimap[p]
    if (t !== TRIMAP_BACKGROUND && t !== TRIMAP_FOREGROUND) unknownIndex[p] = unknownCount++
  }

  // Window centres (interior pixels) whose 3×3 window holds an unknown pixel.
  const centre = new Uint8Array(n)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (unknownIndex[y * width + x] < 0) continue
      for (let cy = Math.max(1, y - 1); cy <= Math.min(height - 2, y + 1); cy++)
        for (let cx = Math.max(1, x - 1); cx <= Math.min(width - 2, x + 1); cx++) centre[cy * width + cx] = 1
    }
  }

  // Stencil index of the offset from window pixel a to window pixel b (a, b = wy*3 + wx).
  const pairOffset = new Int32Array(81)
  for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) pairOffset[a * 9 + b] = (((b / 3) | 0) - ((a / 3) | 0) + 2) * 5 + ((b % 3) - (a % 3) + 2)

  const stencil = new Float64Array(unknownCount * STENCIL)
  const cr = new Float64Array(9)
  const cg = new Float64Array(9)
  const cb = new Float64Array(9)
  const windowUnknown = new Int32Array(9)
  const scale = 1 / 255
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      if (!centre[y * width + x]) continue
      let sr = 0
      let sg = 0
      let sb = 0
      for (let k = 0; k < 9; k++) {
        const p = (y + ((k / 3) | 0) - 1) * width + x + (k % 3) - 1
        windowUnknown[k] = unknownIndex[p]
        const r = rgb[3 * p] * scale
        const g = rgb[3 * p + 1] * scale
        const b = rgb[3 * p + 2] * scale
        cr[k] = r
        cg[k] = g
        cb[k] = b
        sr += r
        sg += g
        sb += b
      }
      sr /= 9
      sg /= 9
      sb /= 9
      let a00 = epsilon
      let a01 = 0
      let a02 = 0
      let a11 = epsilon
      let a12 = 0
      let a22 = epsilon
      for (let k = 0; k < 9; k++) {
        const r = (cr[k] -= sr)
        const g = (cg[k] -= sg)
        const b = (cb[k] -= sb)
        a00 += r * r
        a01 += r * g
        a02 += r * b
        a11 += g * g
        a12 += g * b
        a22 += b * b
      }
      // Covariance + ε/9·I (the /9 of both terms), then its inverse by cofactors.
      a00 /= 9
      a01 /= 9
      a02 /= 9
      a11 /= 9
      a12 /= 9
      a22 /= 9
      const c00 = a11 * a22 - a12 * a12
      const c01 = a02 * a12 - a01 * a22
      const c02 = a01 * a12 - a02 * a11
      const invDet = 1 / (a00 * c00 + a01 * c01 + a02 * c02)
      const m00 = c00 * invDet
      const m01 = c01 * invDet
      const m02 = c02 * invDet
      const m11 = (a00 * a22 - a02 * a02) * invDet
      const m12 = (a01 * a02 - a00 * a12) * invDet
      const m22 = (a00 * a11 - a01 * a01) * invDet
      // Each pair (a, b) once: the value is symmetric, and goes to row a (offset a→b) and row b (offset b→a).
      for (let a = 0; a < 9; a++) {
        const rowA = windowUnknown[a]
        const ra = cr[a]
        const ga = cg[a]
        const ba = cb[a]
        const qr = m00 * ra + m01 * ga + m02 * ba
        const qg = m01 * ra + m11 * ga + m12 * ba
        const qb = m02 * ra + m12 * ga + m22 * ba
        if (rowA >= 0) stencil[rowA * STENCIL + 12] += 1 - (1 + qr * ra + qg * ga + qb * ba) / 9
        for (let b = a + 1; b < 9; b++) {
          const rowB = windowUnknown[b]
          if (rowA < 0 && rowB < 0) continue
          const value = -(1 + qr * cr[b] + qg * cg[b] + qb * cb[b]) / 9
          if (rowA >= 0) stencil[rowA * STENCIL + pairOffset[a * 9 + b]] += value
          if (rowB >= 0) stencil[rowB * STENCIL + 24 - pairOffset[a * 9 + b]] += value
        }
      }
    }
  }

  // CSR of the unknown-unknown block; known foreground neighbours move to the right-hand side (α = 1 there).
  const rowStart = new Int32Array(unknownCount + 1)
  const columns = new Int32Array(unknownCount * STENCIL)
  const values = new Float64Array(unknownCount * STENCIL)
  const rhs = new Float64Array(unknownCount)
  const offsetX = Int32Array.from({ length: STENCIL }, (_, o) => (o % 5) - 2)
  const offsetY = Int32Array.from({ length: STENCIL }, (_, o) => Math.floor(o / 5) - 2)
  let count = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      const row = unknownIndex[p]
      if (row < 0) continue
      const base = row * STENCIL
      let b = 0
      for (let o = 0; o < STENCIL; o++) {
        const value = stencil[base + o]
        // Zero where no window holds both pixels, which includes every neighbour outside the photo.
        if (value === 0) continue
        const q = p + offsetY[o] * width + offsetX[o]
        const column = unknownIndex[q]
        if (column >= 0) {
          columns[count] = column
          values[count++] = value
        } else if (trimap[q] === TRIMAP_FOREGROUND) b -= value
      }
      rhs[row] = b
      rowStart[row + 1] = count
    }
  }
  return {
    matrix: { size: unknownCount, rowStart, columns: columns.slice(0, count), values: values.slice(0, count) },
    rhs,
    unknownIndex
  }
}

/**
 * Alpha matte of an RGB image (3 bytes per pixel) from a trimap (0 background, 128 unknown, 255 foreground).
 * Throws an Error in plain words for a bad trimap; prefix the file name at the call site.
 */
export function closedFormMatte(rgb: Uint8Array, trimap: Uint8Array, width: number, height: number, options: ClosedFormOptions = {}): MatteResult {
  if (rgb.length !== width * height * 3) throw new Error(`the photo has ${rgb.length} bytes but ${width}×${height} RGB needs ${width * height * 3}`)
  if (width < 3 || height < 3) throw new Error(`the photo is too small to matte (${width}×${height}; at least 3×3 is needed)`)
  const stats = validateTrimap(trimap, width, height, 'the trimap')
  if (stats.foreground + stats.background === 0) throw new Error('the trimap has no leaf (255) or background (0) pixels, so the matte is not determined')
  const epsilon = options.epsilon ?? 1e-7
  options.signal?.throwIfAborted()
  const { matrix, rhs, unknownIndex } = buildMattingSystem(rgb, trimap, width, height, epsilon)
  options.signal?.throwIfAborted()
  const factor = choleskyPreconditioner(matrix, options.dropTolerance ?? 5e-4, options.signal)
  options.signal?.throwIfAborted()
  const x = new Float64Array(matrix.size)
  const { iterations, relativeResidual } = conjugateGradients(
    matrix,
    rhs,
    x,
    (r, z) => {
      z.set(r)
      choleskySolve(factor, z)
    },
    { tolerance: options.tolerance ?? 5e-6, maxIterations: options.maxIterations ?? 10000, signal: options.signal }
  )
  const alpha = new Float32Array(width * height)
  for (let p = 0; p < alpha.length; p++) {
    const u = unknownIndex[p]
    alpha[p] = u >= 0 ? Math.min(1, Math.max(0, x[u])) : trimap[p] === TRIMAP_FOREGROUND ? 1 : 0
  }
  return { alpha, width, height, unknownPixels: matrix.size, iterations, relativeResidual }
}

/** Alpha 0..1 to 8-bit 0..255 (rounded). */
export function alphaToBytes(alpha: Float32Array): Uint8Array {
  const out = new Uint8Array(alpha.length)
  for (let i = 0; i < alpha.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, alpha[i])) * 255)
  return out
}
