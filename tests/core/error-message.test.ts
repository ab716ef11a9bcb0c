// A problem's reason is words, whatever was thrown: an Error, a string, OpenCV's bare number, nothing at all.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { errorMessage } from '../../src/shared/errors'

test('errorMessage never gives an empty or "undefined" reason', () => {
  assert.equal(errorMessage(new Error('the photo is cut short')), 'the photo is cut short')
  assert.equal(errorMessage('plain words'), 'plain words')
  assert.match(errorMessage(6477704), /internal error of the image library \(code 6477704\)/)
  assert.equal(errorMessage({ code: 'bad_input', message: 'a shaped error' }), 'a shaped error')
  for (const thrown of [undefined, null, '', new Error(''), {}]) {
    const reason = errorMessage(thrown)
    assert.ok(reason.length > 0 && !/^undefined$|^$/.test(reason), `${String(thrown)} gave “${reason}”`)
  }
})
