// The editor's mask and its per-stroke history, without a browser: strokes, polygons, fill holes, specks,
// undo/redo of 100 strokes back to the exact masks, and the one flood fill under them (4- and 8-connected).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EditableMask, floodFill, maxUndoSteps } from '../../src/renderer/src/components/inspector/editing/mask-edit'

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
  m.polygon(
    [
      { x: 10, y: 10 },
      { x: 30, y: 10 },
      { x: 30, y: 30 },
      { x: 10, y: 30 }
    ],
    1
  )
  assert.equal(count(m), 400, 'a 20×20 square of pixel centres')
  m.polygon(
    [
      { x: 15, y: 15 },
      { x: 25, y: 15 },
      { x: 25, y: 25 },
      { x: 15, y: 25 }
    ],
    0
  )
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
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647
  const states: Uint8Array[] = [m.data.slice()]
  for (let s = 0; s < 100; s++) {
    const kind = s % 10
    if (kind === 7) m.fillHoles() ?? m.paint(null, { x: 1, y: 1 }, 1, 1)
    else if (kind === 8) m.removeSpecks(30)
    else if (kind === 9)
      m.polygon(
        [0, 1, 2, 3].map(() => ({ x: random() * 257, y: random() * 131 })),
        random() < 0.5 ? 1 : 0
      )
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

/** Pixels per leaf id, as { id: count }. */
function leaves(m: EditableMask): Record<number, number> {
  const out: Record<number, number> = {}
  for (const v of m.data) if (v) out[v] = (out[v] ?? 0) + 1
  return out
}

test('leaves: a line splits one leaf in two, a click merges two, each one undo step; the first also separates', () => {
  // Two rectangles touching along x = 20: one piece to the mask, until a line splits it.
  const m = new EditableMask(40, 20)
  m.polygon(
    [
      { x: 5, y: 5 },
      { x: 35, y: 5 },
      { x: 35, y: 15 },
      { x: 5, y: 15 }
    ],
    1
  )
  assert.equal(m.leaves, false)
  const before = m.data.slice()
  assert.equal(m.split({ x: 3, y: 10 }, { x: 37, y: 10.4 }) !== null, true, 'a cut along the leaf')
  assert.equal(m.leaves, true)
  const halves = leaves(m)
  assert.deepEqual(Object.keys(halves).length, 2)
  assert.equal(
    Object.values(halves).reduce((a, b) => a + b, 0),
    300,
    'no pixel lost: the line stays leaf'
  )
  assert.equal(m.data[7 * 40 + 20] !== m.data[13 * 40 + 20], true, 'above and below the line are different leaves')
  assert.equal(m.history.length, 2)

  // A line that does not cross the leaf from edge to edge leaves it whole.
  assert.equal(m.split({ x: 10, y: 6.5 }, { x: 14, y: 6.5 }), null)
  assert.equal(m.history.length, 2)

  // Merge the lower half into the upper: one leaf again, with the upper's id.
  const upper = m.leafAt({ x: 20, y: 7 })
  assert.ok(m.merge({ x: 20, y: 7 }, { x: 20, y: 13 }))
  assert.deepEqual(leaves(m), { [upper]: 300 })
  assert.equal(m.merge({ x: 20, y: 7 }, { x: 20, y: 8 }), null, 'one leaf already')
  assert.equal(m.merge({ x: 20, y: 7 }, { x: 1, y: 1 }), null, 'background is no leaf')

  m.undo()
  assert.deepEqual(leaves(m), halves, 'undo brings the split back')
  m.undo()
  assert.equal(m.leaves, false, 'and undoing the split undoes the separating')
  assert.deepEqual(Array.from(m.data), Array.from(before))
  m.redo()
  assert.equal(m.leaves, true)
  assert.deepEqual(leaves(m), halves)
})

test('leaves: the brush paints a given leaf, holes fill with the leaf around them, specks go per leaf', () => {
  const ids = new Uint8Array(30 * 20)
  for (let y = 2; y < 18; y++) for (let x = 2; x < 28; x++) ids[y * 30 + x] = x < 15 ? 3 : 9
  const m = new EditableMask(30, 20, ids, true)
  assert.deepEqual(m.leafIds(), [3, 9])
  assert.equal(m.newLeafId(), 10)
  m.paint(null, { x: 20, y: 10 }, 2, 3)
  m.endStroke()
  assert.equal(m.leafAt({ x: 20, y: 10 }), 3, 'leaf 3 painted over leaf 9')
  m.polygon(
    [
      { x: 5, y: 5 },
      { x: 9, y: 5 },
      { x: 9, y: 9 },
      { x: 5, y: 9 }
    ],
    0
  )
  m.fillHoles()
  assert.equal(m.leafAt({ x: 7, y: 7 }), 3, 'the hole in leaf 3 is leaf 3 again')
  assert.deepEqual(Array.from(m.toBytes().slice(0, 3)), [0, 0, 0])
  assert.equal(m.toBytes()[2 * 30 + 2], 255)
  // a lone pixel of leaf 9 inside leaf 3 is a speck of leaf 9
  m.paint(null, { x: 10.5, y: 10.5 }, 0.5, 9)
  m.endStroke()
  assert.equal(m.leafAt({ x: 10, y: 10 }), 9)
  m.removeSpecks(3)
  assert.equal(m.leafAt({ x: 10, y: 10 }), 0)
})

/** The pixels of a 0/1 image (rows of '0'/'1') that a flood fill from `seed` reaches through its 1s, sorted. */
function reached(rows: string[], seed: number, connectivity: 4 | 8): number[] {
  const width = rows[0].length
  const data = Uint8Array.from(rows.join(''), Number)
  const seen = new Uint8Array(data.length)
  const queue = new Int32Array(data.length)
  const n = floodFill(width, rows.length, connectivity, [seed], queue, (j) => {
    if (!data[j] || seen[j]) return false
    seen[j] = 1
    return true
  })
  return Array.from(queue.subarray(0, n)).sort((a, b) => a - b)
}

test('flood fill: 4-connected stops at a diagonal, 8-connected follows it; neither wraps round a row end', () => {
  const diagonal = ['1000', '0100', '0010', '0001']
  assert.deepEqual(reached(diagonal, 0, 4), [0])
  assert.deepEqual(reached(diagonal, 0, 8), [0, 5, 10, 15])
  // The last pixel of a row and the first of the next are neighbours in memory, not in the image.
  const ends = ['001', '100', '001']
  for (const c of [4, 8] as const) {
    assert.deepEqual(reached(ends, 2, c), [2], `${c}-connected, from the end of row 0`)
    assert.deepEqual(reached(ends, 3, c), [3], `${c}-connected, from the start of row 1`)
    assert.deepEqual(reached(ends, 8, c), [8], `${c}-connected, from the last pixel`)
  }
  // Several seeds, seeds first in the queue, and `from` naming the pixel each was reached from.
  const queue = new Int32Array(9)
  const from: number[] = []
  const seen = new Set<number>()
  const n = floodFill(3, 3, 4, [0, 8], queue, (j, f) => {
    if (seen.has(j)) return false
    seen.add(j)
    from[j] = f
    return true
  })
  assert.equal(n, 9)
  assert.deepEqual(Array.from(queue.subarray(0, 2)), [0, 8])
  assert.deepEqual([from[0], from[8], from[1], from[7]], [-1, -1, 0, 8])
})

test('connectivity of each tool: corner-touching squares are one leaf, a diagonal speck line is no speck, a diagonal ring holds a hole, a diagonal line splits', () => {
  // Two 3×3 squares touching at one corner: one 8-connected piece, so separating makes one leaf.
  const corner = new EditableMask(8, 8)
  corner.polygon(
    [
      { x: 1, y: 1 },
      { x: 4, y: 1 },
      { x: 4, y: 4 },
      { x: 1, y: 4 }
    ],
    1
  )
  corner.polygon(
    [
      { x: 4, y: 4 },
      { x: 7, y: 4 },
      { x: 7, y: 7 },
      { x: 4, y: 7 }
    ],
    1
  )
  corner.separate()
  assert.deepEqual(corner.leafIds(), [1])

  // A diagonal line of 5 single pixels is one 8-connected piece of 5: not a speck below 5 pixels.
  const line = new EditableMask(
    8,
    8,
    Uint8Array.from({ length: 64 }, (_, i) => (i % 9 === 0 && i < 45 ? 1 : 0))
  )
  assert.equal(line.removeSpecks(5), null)
  assert.ok(line.removeSpecks(6), 'but it is one below 6')
  assert.equal(count(line), 0)

  // A diamond ring whose pixels touch only at corners: the background inside cannot reach the border through
  // 4-connected steps, so it is a hole, and filling holes fills it.
  const rows = ['0000000', '0001000', '0010100', '0100010', '0010100', '0001000', '0000000']
  const ring = new EditableMask(7, 7, Uint8Array.from(rows.join(''), Number))
  assert.ok(ring.fillHoles())
  assert.equal(ring.leafAt({ x: 3, y: 3 }), 1)
  assert.equal(count(ring), 8 + 5)

  // A diagonal cut: the line's pixels are 4-connected, and so are the pieces, so the halves come apart.
  const square = new EditableMask(20, 20)
  square.polygon(
    [
      { x: 2, y: 2 },
      { x: 18, y: 2 },
      { x: 18, y: 18 },
      { x: 2, y: 18 }
    ],
    1
  )
  assert.ok(square.split({ x: 0.5, y: 0.5 }, { x: 19.5, y: 19.5 }))
  assert.equal(square.leafIds().length, 2)
  assert.notEqual(square.leafAt({ x: 15, y: 4 }), square.leafAt({ x: 4, y: 15 }))
})
