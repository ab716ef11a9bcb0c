import { test } from 'node:test'
import assert from 'node:assert/strict'
import { choleskyPreconditioner, choleskySolve, conjugateGradients, incompleteCholesky, multiply, type CsrMatrix } from '../../src/main/core/matting/sparse'

// A small SPD matrix: 2-D grid Laplacian with a positive diagonal shift, in CSR.
function gridMatrix(side: number, shift: number): CsrMatrix {
  const n = side * side
  const rowStart = new Int32Array(n + 1)
  const columns: number[] = []
  const values: number[] = []
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const entries: Array<[number, number]> = []
      let degree = 0
      for (const [dx, dy] of [
        [0, -1],
        [-1, 0],
        [1, 0],
        [0, 1]
      ]) {
        const xx = x + dx
        const yy = y + dy
        if (xx < 0 || yy < 0 || xx >= side || yy >= side) continue
        entries.push([yy * side + xx, -1])
        degree++
      }
      entries.push([y * side + x, degree + shift])
      entries.sort((a, b) => a[0] - b[0])
      for (const [c, v] of entries) {
        columns.push(c)
        values.push(v)
      }
      rowStart[y * side + x + 1] = columns.length
    }
  return { size: n, rowStart, columns: Int32Array.from(columns), values: Float64Array.from(values) }
}

test('incomplete Cholesky without dropping is the exact factor (to float32 precision)', () => {
  const a = gridMatrix(6, 0.1)
  const factor = incompleteCholesky(a, 0, 0)
  assert.ok(factor)
  const b = Float64Array.from({ length: a.size }, (_, i) => Math.sin(i))
  const x = b.slice()
  choleskySolve(factor, x)
  const ax = new Float64Array(a.size)
  multiply(a, x, ax)
  for (let i = 0; i < a.size; i++) assert.ok(Math.abs(ax[i] - b[i]) < 1e-5, `${ax[i]} vs ${b[i]}`) // float32 factor entries
})

test('a non-positive pivot is reported, and the shifted retry succeeds', () => {
  const a = gridMatrix(4, 0)
  a.values.forEach((v, k) => (a.values[k] = v > 0 ? v - 2.5 : v)) // indefinite
  assert.equal(incompleteCholesky(a, 1e-4, 0), undefined)
  assert.ok(choleskyPreconditioner(a, 1e-4).size === a.size)
})

test('preconditioned CG with a dropped-entry factor solves to tolerance', () => {
  const a = gridMatrix(30, 1e-3)
  const factor = choleskyPreconditioner(a, 0.05)
  const b = Float64Array.from({ length: a.size }, (_, i) => ((i * 37) % 11) - 5)
  const x = new Float64Array(a.size)
  const result = conjugateGradients(
    a,
    b,
    x,
    (r, z) => {
      z.set(r)
      choleskySolve(factor, z)
    },
    { tolerance: 1e-9, maxIterations: 500 }
  )
  assert.ok(result.iterations > 1)
  const ax = new Float64Array(a.size)
  multiply(a, x, ax)
  let err = 0
  let norm = 0
  for (let i = 0; i < a.size; i++) {
    err += (ax[i] - b[i]) ** 2
    norm += b[i] ** 2
  }
  assert.ok(Math.sqrt(err / norm) <= 1e-9)
  assert.throws(
    () => conjugateGradients(a, b, new Float64Array(a.size), (r, z) => z.set(r), { tolerance: 1e-12, maxIterations: 3 }),
    /did not converge within 3/
  )
})
