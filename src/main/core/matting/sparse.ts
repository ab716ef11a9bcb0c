// Sparse symmetric positive definite solver pieces for the matting system: CSR matrix-vector product,
// thresholded incomplete Cholesky preconditioner, preconditioned conjugate gradients.

/** Square matrix in compressed sparse row form; column indices ascending within each row. */
export interface CsrMatrix {
  size: number
  rowStart: Int32Array // length size + 1
  columns: Int32Array
  values: Float64Array
}

// The sums below run four accumulators: with one running sum every step waits for the previous addition,
// which on the machines measured cost more than the memory reads.

export function multiply(matrix: CsrMatrix, x: Float64Array, out: Float64Array): void {
  const { size, rowStart, columns, values } = matrix
  for (let row = 0; row < size; row++) {
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    const end = rowStart[row + 1]
    let k = rowStart[row]
    for (; k + 3 < end; k += 4) {
      s0 += values[k] * x[columns[k]]
      s1 += values[k + 1] * x[columns[k + 1]]
      s2 += values[k + 2] * x[columns[k + 2]]
      s3 += values[k + 3] * x[columns[k + 3]]
    }
    for (; k < end; k++) s0 += values[k] * x[columns[k]]
    out[row] = s0 + s1 + s2 + s3
  }
}

/**
 * Lower-triangular factor L (A ≈ L Lᵀ): the diagonal, and the entries below it twice, by column and by row,
 * so that both triangular solves read memory in order and sum into a register (gather, not scatter).
 * Entries are stored as float32: the preconditioner needs no more, and the solves are bound by memory traffic.
 */
export interface CholeskyFactor {
  size: number
  inverseDiagonal: Float64Array
  columnStart: Int32Array
  columnRows: Int32Array
  columnValues: Float32Array
  rowStart: Int32Array
  rowColumns: Int32Array
  rowValues: Float32Array
}

/**
 * Thresholded incomplete Cholesky of a symmetric matrix given in full CSR form (left-looking, column by column):
 * fill-in is computed and kept where |L_ij| > dropTolerance. The diagonal is updated with every computed
 * entry, dropped or not. Returns undefined when a pivot is not positive (the caller retries with a shift).
 *
 * The current column is accumulated densely; instead of tracking and sorting its nonzero rows, they are found
 * by scanning from the diagonal to the highest row touched, which in the matting system is about two image
 * rows of unknown pixels away and costs less than the sort.
 */
export function incompleteCholesky(matrix: CsrMatrix, dropTolerance: number, shift: number, signal?: AbortSignal): CholeskyFactor | undefined {
  const n = matrix.size
  const { rowStart, columns, values } = matrix
  const columnStart = new Int32Array(n + 1)
  let capacity = Math.max(16, rowStart[n] * 2)
  let rows = new Int32Array(capacity)
  let factor = new Float32Array(capacity)
  let count = 0

  const pivot = new Float64Array(n) // running diagonal: A_jj + shift - Σ L_jk²
  const work = new Float64Array(n) // dense accumulator for the current column, zero outside it
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

  const candidateRows = new Int32Array(n)
  const candidateValues = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    if ((j & 4095) === 0) signal?.throwIfAborted()
    let last = j // highest row touched in column j
    const rowEnd = rowStart[j + 1]
    for (let k = rowStart[j]; k < rowEnd; k++) {
      const i = columns[k]
      if (i > j) work[i] += values[k]
    }
    if (rowEnd > rowStart[j] && columns[rowEnd - 1] > last) last = columns[rowEnd - 1]
    let k = listHead[j]
    while (k !== -1) {
      const following = listNext[k]
      const at = nextEntry[k]
      const ljk = factor[at]
      const end = columnStart[k + 1]
      let t = at + 1
      for (; t + 3 < end; t += 4) {
        const i0 = rows[t]
        const i1 = rows[t + 1]
        const i2 = rows[t + 2]
        const i3 = rows[t + 3]
        work[i0] -= factor[t] * ljk
        work[i1] -= factor[t + 1] * ljk
        work[i2] -= factor[t + 2] * ljk
        work[i3] -= factor[t + 3] * ljk
      }
      for (; t < end; t++) work[rows[t]] -= factor[t] * ljk
      if (at + 1 < end) {
        if (rows[end - 1] > last) last = rows[end - 1]
        nextEntry[k] = at + 1
        const r = rows[at + 1]
        listNext[k] = listHead[r]
        listHead[r] = k
      }
      k = following
    }

    const d = pivot[j]
    if (!(d > 0)) return undefined
    const ljj = Math.sqrt(d)
    const inverse = 1 / ljj
    let kept = 0
    for (let i = j + 1; i <= last; i++) {
      const w = work[i]
      if (w === 0) continue
      work[i] = 0
      const lij = w * inverse
      pivot[i] -= lij * lij
      if (Math.abs(lij) > dropTolerance) {
        candidateRows[kept] = i
        candidateValues[kept++] = lij
      }
    }
    if (count + 1 + kept > capacity) {
      capacity = Math.max(capacity * 2, count + 1 + kept)
      const grownRows = new Int32Array(capacity)
      grownRows.set(rows.subarray(0, count))
      rows = grownRows
      const grownValues = new Float32Array(capacity)
      grownValues.set(factor.subarray(0, count))
      factor = grownValues
    }
    columnStart[j] = count
    rows[count] = j
    factor[count++] = ljj
    for (let p = 0; p < kept; p++) {
      rows[count] = candidateRows[p]
      factor[count++] = candidateValues[p]
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
  return splitFactor(n, columnStart, rows, factor)
}

/** From columns with the diagonal first to the CholeskyFactor layout (diagonal apart, by column and by row). */
function splitFactor(n: number, columnStart: Int32Array, rows: Int32Array, values: Float32Array): CholeskyFactor {
  const offDiagonal = columnStart[n] - n
  const inverseDiagonal = new Float64Array(n)
  const lowerStart = new Int32Array(n + 1)
  const columnRows = new Int32Array(offDiagonal)
  const columnValues = new Float32Array(offDiagonal)
  const rowCount = new Int32Array(n + 1)
  let count = 0
  for (let j = 0; j < n; j++) {
    const start = columnStart[j]
    inverseDiagonal[j] = 1 / values[start]
    for (let t = start + 1; t < columnStart[j + 1]; t++) {
      columnRows[count] = rows[t]
      columnValues[count++] = values[t]
      rowCount[rows[t] + 1]++
    }
    lowerStart[j + 1] = count
  }
  const rowStart = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) rowStart[i + 1] = rowStart[i] + rowCount[i + 1]
  const fill = rowStart.slice(0, n)
  const rowColumns = new Int32Array(offDiagonal)
  const rowValues = new Float32Array(offDiagonal)
  for (let j = 0; j < n; j++) {
    for (let t = lowerStart[j]; t < lowerStart[j + 1]; t++) {
      const at = fill[columnRows[t]]++
      rowColumns[at] = j
      rowValues[at] = columnValues[t]
    }
  }
  return { size: n, inverseDiagonal, columnStart: lowerStart, columnRows, columnValues, rowStart, rowColumns, rowValues }
}

/** Solves L Lᵀ x = b in place (x holds b on entry). */
export function choleskySolve(factor: CholeskyFactor, x: Float64Array): void {
  const { size, inverseDiagonal, columnStart, columnRows, columnValues, rowStart, rowColumns, rowValues } = factor
  for (let i = 0; i < size; i++) {
    let s0 = x[i]
    let s1 = 0
    let s2 = 0
    let s3 = 0
    const end = rowStart[i + 1]
    let t = rowStart[i]
    for (; t + 3 < end; t += 4) {
      s0 -= rowValues[t] * x[rowColumns[t]]
      s1 -= rowValues[t + 1] * x[rowColumns[t + 1]]
      s2 -= rowValues[t + 2] * x[rowColumns[t + 2]]
      s3 -= rowValues[t + 3] * x[rowColumns[t + 3]]
    }
    for (; t < end; t++) s0 -= rowValues[t] * x[rowColumns[t]]
    x[i] = (s0 + s1 + s2 + s3) * inverseDiagonal[i]
  }
  for (let j = size - 1; j >= 0; j--) {
    let s0 = x[j]
    let s1 = 0
    let s2 = 0
    let s3 = 0
    const end = columnStart[j + 1]
    let t = columnStart[j]
    for (; t + 3 < end; t += 4) {
      s0 -= columnValues[t] * x[columnRows[t]]
      s1 -= columnValues[t + 1] * x[columnRows[t + 1]]
      s2 -= columnValues[t + 2] * x[columnRows[t + 2]]
      s3 -= columnValues[t + 3] * x[columnRows[t + 3]]
    }
    for (; t < end; t++) s0 -= columnValues[t] * x[columnRows[t]]
    x[j] = (s0 + s1 + s2 + s3) * inverseDiagonal[j]
  }
}

/** Incomplete Cholesky with increasing diagonal shifts until it succeeds. */
export function choleskyPreconditioner(matrix: CsrMatrix, dropTolerance = 1e-4, signal?: AbortSignal): CholeskyFactor {
  for (const shift of [0, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1, 10, 100, 1e3, 1e4, 1e5]) {
    const factor = incompleteCholesky(matrix, dropTolerance, shift, signal)
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
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const n = a.length
  let i = 0
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i]
    s1 += a[i + 1] * b[i + 1]
    s2 += a[i + 2] * b[i + 2]
    s3 += a[i + 3] * b[i + 3]
  }
  for (; i < n; i++) s0 += a[i] * b[i]
  return s0 + s1 + s2 + s3
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
    for (let i = 0; i < n; i++) {
      x[i] += step * p[i]
      r[i] -= step * ap[i]
    }
    normR = Math.sqrt(dot(r, r))
    if (normR <= goal) return { iterations: iteration, relativeResidual: normR / normB }
    precondition(r, z)
    const rzNext = dot(r, z)
    const beta = rzNext / rz
    rz = rzNext
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i]
  }
  throw new Error(`the matting solver did not converge within ${options.maxIterations} iterations`)
}
