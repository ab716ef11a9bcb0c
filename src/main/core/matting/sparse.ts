// Sparse symmetric positive definite solver pieces for the matting system: CSR matrix-vector product,
// thresholded incomplete Cholesky preconditioner, preconditioned conjugate gradients.

/** Square matrix in compressed sparse row form; column indices ascending within each row. */
export interface CsrMatrix {
  size: number
  rowStart: Int32Array // length size + 1
  columns: Int32Array
  values: Float64Array
}

export function multiply(matrix: CsrMatrix, x: Float64Array, out: Float64Array): void {
  const { size, rowStart, columns, values } = matrix
  for (let row = 0; row < size; row++) {
    let sum = 0
    const end = rowStart[row + 1]
    for (let k = rowStart[row]; k < end; k++) sum += values[k] * x[columns[k]]
    out[row] = sum
  }
}

/** Lower-triangular factor L (A ≈ L Lᵀ) in compressed sparse column form, each column's diagonal first. */
export interface CholeskyFactor {
  size: number
  columnStart: Int32Array
  rows: Int32Array
  values: Float64Array
}

/**
 * Thresholded incomplete Cholesky of a symmetric matrix given in full CSR form (left-looking, column by column):
 * fill-in is computed and kept where |L_ij| > dropTolerance. The diagonal is updated with every computed
 * entry, dropped or not. Returns undefined when a pivot is not positive (the caller retries with a shift).
 */
export function incompleteCholesky(matrix: CsrMatrix, dropTolerance: number, shift: number): CholeskyFactor | undefined {
  const n = matrix.size
  const { rowStart, columns, values } = matrix
  const columnStart = new Int32Array(n + 1)
  let capacity = Math.max(16, rowStart[n] * 2)
  let rows = new Int32Array(capacity)
  let factor = new Float64Array(capacity)
  let count = 0

  const pivot = new Float64Array(n) // running diagonal: A_jj + shift - Σ L_jk²
  const work = new Float64Array(n) // dense accumulator for the current column
  const touched = new Uint8Array(n)
  const pattern = new Int32Array(n) // row indices touched in the current column
  // Columns k < j with a stored entry in row j are kept in a linked list per row: listHead[j] -> listNext[k] -> ...
  // nextEntry[k] is the position in column k of that entry.
  const listHead = new Int32Array(n).fill(-1)
  const listNext = new Int32Array(n).fill(-1)
  const nextEntry = new Int32Array(n)

  for (let row = 0; row < n; row++) {
    let diagonal = 0
    for (let k = rowStart[row]; k < rowStart[row + 1]; k++) if (columns[k] === row) diagonal += values[k]
    pivot[row] = diagonal + shift
  }

  for (let j = 0; j < n; j++) {
    let patternSize = 0
    // Column j of A below the diagonal equals row j right of the diagonal (symmetry).
    for (let k = rowStart[j]; k < rowStart[j + 1]; k++) {
      const i = columns[k]
      if (i <= j) continue
      work[i] += values[k]
      if (!touched[i]) {
        touched[i] = 1
        pattern[patternSize++] = i
      }
    }
    // Subtract L_ik * L_jk for every earlier column k with an entry in row j.
    let k = listHead[j]
    while (k !== -1) {
      const following = listNext[k]
      const at = nextEntry[k]
      const ljk = factor[at]
      const end = columnStart[k + 1]
      for (let t = at + 1; t < end; t++) {
        const i = rows[t]
        work[i] -= factor[t] * ljk
        if (!touched[i]) {
          touched[i] = 1
          pattern[patternSize++] = i
        }
      }
      if (at + 1 < end) {
        nextEntry[k] = at + 1
        const r = rows[at + 1]
        listNext[k] = listHead[r]
        listHead[r] = k
      }
      k = following
    }

    const d = pivot[j]
    if (!(d > 0)) return undefined
    if (count + 1 + patternSize > capacity) {
      capacity = Math.max(capacity * 2, count + 1 + patternSize)
      const grownRows = new Int32Array(capacity)
      grownRows.set(rows.subarray(0, count))
      rows = grownRows
      const grownValues = new Float64Array(capacity)
      grownValues.set(factor.subarray(0, count))
      factor = grownValues
    }
    const ljj = Math.sqrt(d)
    columnStart[j] = count
    rows[count] = j
    factor[count++] = ljj
    const sorted = pattern.subarray(0, patternSize).sort()
    for (let p = 0; p < patternSize; p++) {
      const i = sorted[p]
      const lij = work[i] / ljj
      pivot[i] -= lij * lij
      if (Math.abs(lij) > dropTolerance) {
        rows[count] = i
        factor[count++] = lij
      }
      work[i] = 0
      touched[i] = 0
    }
    columnStart[j + 1] = count
    if (columnStart[j] + 1 < count) {
      const at = columnStart[j] + 1
      nextEntry[j] = at
      const r = rows[at]
      listNext[j] = listHead[r]
      listHead[r] = j
    }
  }
  return { size: n, columnStart, rows: rows.slice(0, count), values: factor.slice(0, count) }
}

/** Solves L Lᵀ x = b in place (x holds b on entry). */
export function choleskySolve(factor: CholeskyFactor, x: Float64Array): void {
  const { size, columnStart, rows, values } = factor
  for (let j = 0; j < size; j++) {
    const start = columnStart[j]
    const xj = x[j] / values[start]
    x[j] = xj
    const end = columnStart[j + 1]
    for (let t = start + 1; t < end; t++) x[rows[t]] -= values[t] * xj
  }
  for (let j = size - 1; j >= 0; j--) {
    const start = columnStart[j]
    let sum = x[j]
    const end = columnStart[j + 1]
    for (let t = start + 1; t < end; t++) sum -= values[t] * x[rows[t]]
    x[j] = sum / values[start]
  }
}

/** Incomplete Cholesky with increasing diagonal shifts until it succeeds. */
export function choleskyPreconditioner(matrix: CsrMatrix, dropTolerance = 1e-4): CholeskyFactor {
  for (const shift of [0, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1, 10, 100, 1e3, 1e4, 1e5]) {
    const factor = incompleteCholesky(matrix, dropTolerance, shift)
    if (factor) return factor
  }
  throw new Error('the matting system could not be preconditioned (it is not positive definite)')
}

export interface CgResult {
  iterations: number
  /** ‖b − Ax‖ / ‖b‖ at exit. */
  relativeResidual: number
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i]
  return sum
}

/**
 * Preconditioned conjugate gradients for A x = b, starting from x (zeros or a guess).
 * Stops when ‖r‖ ≤ tolerance·‖b‖; throws when maxIterations pass without that.
 */
export function conjugateGradients(
  matrix: CsrMatrix,
  b: Float64Array,
  x: Float64Array,
  precondition: (r: Float64Array, z: Float64Array) => void,
  options: { tolerance: number; maxIterations: number; signal?: AbortSignal }
): CgResult {
  const n = matrix.size
  const r = new Float64Array(n)
  const z = new Float64Array(n)
  const p = new Float64Array(n)
  const ap = new Float64Array(n)
  multiply(matrix, x, ap)
  for (let i = 0; i < n; i++) r[i] = b[i] - ap[i]
  const normB = Math.sqrt(dot(b, b))
  if (normB === 0) {
    x.fill(0)
    return { iterations: 0, relativeResidual: 0 }
  }
  const goal = options.tolerance * normB
  let normR = Math.sqrt(dot(r, r))
  if (normR <= goal) return { iterations: 0, relativeResidual: normR / normB }
  precondition(r, z)
  p.set(z)
  let rz = dot(r, z)
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    if (iteration % 16 === 0) options.signal?.throwIfAborted()
    multiply(matrix, p, ap)
    const step = rz / dot(p, ap)
    let rr = 0
    for (let i = 0; i < n; i++) {
      x[i] += step * p[i]
      const ri = r[i] - step * ap[i]
      r[i] = ri
      rr += ri * ri
    }
    normR = Math.sqrt(rr)
    if (normR <= goal) return { iterations: iteration, relativeResidual: normR / normB }
    precondition(r, z)
    const rzNext = dot(r, z)
    const beta = rzNext / rz
    rz = rzNext
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i]
  }
  throw new Error(`the matting solver did not converge within ${options.maxIterations} iterations`)
}
