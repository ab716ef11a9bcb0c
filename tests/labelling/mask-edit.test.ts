// The editor's mask and its per-stroke history, without a browser: strokes, polygons, fill holes, specks,
// and undo/redo of 100 strokes back to the exact masks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EditableMask, maxUndoSteps } from '../../src/renderer/src/components/inspector/editing/mask-edit'

const count = (m: EditableMask) => m.data.reduce((a, v) => a + v, 0)

test('a brush stroke is one undo step holding only the region it changed', () => {
  const m = new EditableMask(400, 300)
  m.paint(null, { x: 50, y: 50 }, 5, 1)
  m.paint({ x: 50, y: 50 }, { x: 150, y: 60 }, 5, 1)
  const change = m.endStroke()!
  assert.ok(change)
  assert.equal(m.history.length, 1)
  // 100 px long, 10 px wide: the region is the stroke's box, nowhere near the whole 400×300 mask
  assert.ok(change.rect.width <= 112 && change.rect.height <= 22, JSON.stringify(change.rect))
  assert.equal(change.before.length, change.rect.width * change.rect.height)
  assert.ok(change.before.every((v) => v === 0))
  assert.equal(m.data[55 * 400 + 100], 1, 'the line between the points is painted, not only its ends')
  m.undo()
  assert.equal(count(m), 0)
  m.redo()
  assert.equal(m.data[55 * 400 + 100], 1)
})

test('polygon fill and cut, fill holes, remove specks and clear', () => {
  const m = new EditableMask(50, 40)
  m.polygon([{ x: 10, y: 10 }, { x: 30, y: 10 }, { x: 30, y: 30 }, { x: 10, y: 30 }], 1)
  assert.equal(count(m), 400, 'a 20×20 square of pixel centres')
  m.polygon([{ x: 15, y: 15 }, { x: 25, y: 15 }, { x: 25, y: 25 }, { x: 15, y: 25 }], 0)
  assert.equal(count(m), 300, 'a 10×10 hole cut')
  m.paint(null, { x: 45, y: 5 }, 1, 1)
  m.endStroke()
  const speck = count(m) - 300
  assert.ok(speck > 0 && speck < 10)
  m.fillHoles()
  assert.equal(count(m), 400 + speck)
  m.removeSpecks(10)
  assert.equal(count(m), 400)
  m.clear()
  assert.equal(count(m), 0)
  assert.equal(m.history.length, 6)
  for (const expected of [400, 400 + speck, 300 + speck, 300, 400, 0]) {
    m.undo()
    assert.equal(count(m), expected)
  }
  assert.equal(m.canUndo, false)
})

test('a stroke that paints and erases back to where it was leaves no undo step', () => {
  const m = new EditableMask(20, 20)
  m.paint(null, { x: 10, y: 10 }, 3, 1)
  m.paint(null, { x: 10, y: 10 }, 5, 0)
  assert.equal(m.endStroke(), null)
  assert.equal(m.history.length, 0)
})

test('undo and redo of 100 strokes return the exact masks', () => {
  const m = new EditableMask(257, 131) // odd sizes on purpose
  let seed = 42
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const states: Uint8Array[] = [m.data.slice()]
  for (let s = 0; s < 100; s++) {
    const kind = s % 10
    if (kind === 7) m.fillHoles() ?? m.paint(null, { x: 1, y: 1 }, 1, 1)
    else if (kind === 8) m.removeSpecks(30)
    else if (kind === 9) m.polygon([0, 1, 2, 3].map(() => ({ x: random() * 257, y: random() * 131 })), random() < 0.5 ? 1 : 0)
    else {
      let at = { x: random() * 257, y: random() * 131 }
      const value = random() < 0.7 ? 1 : 0
      m.paint(null, at, 2 + random() * 12, value)
      for (let k = 0; k < 8; k++) {
        const next = { x: at.x + (random() - 0.5) * 40, y: at.y + (random() - 0.5) * 40 }
        m.paint(at, next, 2 + random() * 12, value)
        at = next
      }
    }
    m.endStroke()
    // a step that changed nothing (fill holes with no holes, say) adds no state
    if (m.history.length === states.length) states.push(m.data.slice())
  }
  assert.ok(m.history.length >= 90, `${m.history.length} steps kept`)
  const wholeMask = 257 * 131
  const kept = m.history.reduce((a, c) => a + c.before.length + c.after.length, 0)
  assert.ok(kept < m.history.length * 2 * wholeMask, 'regions, not whole-mask copies')
  for (let i = states.length - 2; i >= 0; i--) {
    assert.ok(m.undo())
    assert.deepEqual(m.data, states[i], `after undoing back to step ${i}`)
  }
  assert.equal(m.undo(), null)
  for (let i = 1; i < states.length; i++) {
    assert.ok(m.redo())
    assert.deepEqual(m.data, states[i], `after redoing step ${i}`)
  }
  // a new stroke after undo drops the redo steps
  m.undo()
  m.paint(null, { x: 5, y: 5 }, 3, m.data[5 * 257 + 5] ? 0 : 1)
  m.endStroke()
  assert.equal(m.canRedo, false)
})

test(`at least 100 steps are kept (${maxUndoSteps}); older ones drop off`, () => {
  const m = new EditableMask(300, 10)
  for (let i = 0; i < maxUndoSteps + 20; i++) {
    m.paint(null, { x: i + 0.5, y: 5.5 }, 0.6, 1)
    m.endStroke()
  }
  assert.ok(maxUndoSteps >= 100)
  assert.equal(m.history.length, maxUndoSteps)
  let undone = 0
  while (m.undo()) undone++
  assert.equal(undone, maxUndoSteps)
  assert.equal(count(m), 20, 'the 20 oldest strokes stay')
})
