import { test } from 'node:test'
import assert from 'node:assert/strict'
import { opencv } from '../../src/main/core/imaging/opencv'

test('opencv-wasm loads once and erodes a square', () => {
  const cv = opencv()
  assert.equal(opencv(), cv)
  const m = cv.Mat.zeros(9, 9, cv.CV_8UC1)
  for (let y = 2; y < 7; y++) for (let x = 2; x < 7; x++) m.ucharPtr(y, x)[0] = 255
  const out = new cv.Mat()
  const k = cv.Mat.ones(3, 3, cv.CV_8UC1)
  try {
    cv.erode(m, out, k)
    assert.equal(cv.countNonZero(out), 9)
  } finally {
    m.delete()
    out.delete()
    k.delete()
  }
})
