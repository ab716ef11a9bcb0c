// The model assist works where the run is not sure of background: a small plant in a large photo is worked on in a
// small region (what a click costs follows it), the proposal still finds the plant, and a leaf click far from it
// widens the region to take it in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GrabCutAssist } from '../../src/main/core/labelling/grabcut'

/** A 480×400 photo of brown soil with one green disc of radius 24 at (120, 100), and a run sure of it. */
function smallPlant() {
  const width = 480
  const height = 400
  const data = new Uint8Array(width * height * 3)
  const truth = new Uint8Array(width * height)
  const probabilities = new Uint8Array(width * height)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      const grain = (x * 7 + y * 13) % 23
      const d = Math.hypot(x - 120, y - 100)
      const leaf = d <= 24
      truth[i] = leaf ? 1 : 0
      data.set(leaf ? [40 + grain, 170 + grain, 40] : [120 + grain, 90 + grain, 60], i * 3)
      // sure inside, unsure on a 4 px band at the edge, sure background elsewhere
      probabilities[i] = d <= 20 ? 240 : d <= 28 ? 128 : 5
    }
  return { photo: { width, height, channels: 3 as const, data }, truth, probabilities }
}

test('from a run, a small plant is worked on in a small region, and found', () => {
  const { photo, truth, probabilities } = smallPlant()
  const assist = new GrabCutAssist(photo)
  try {
    const mask = assist.propose({ probabilities, probabilitiesKey: 'run' }, [])
    const region = assist.workedRegion!
    assert.ok(region.width * region.height <= 100 * 100, `worked on ${region.width}×${region.height}, not a small region around the plant`)
    assert.ok(
      region.x <= 92 && region.y <= 72 && region.x + region.width >= 148 && region.y + region.height >= 128,
      'the region holds the plant and its margin'
    )
    let inter = 0
    let union = 0
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] && mask[i]) inter++
      if (truth[i] || mask[i]) union++
    }
    assert.ok(inter / union > 0.9, `IoU ${(inter / union).toFixed(3)}`)
    // a leaf click far away: the region takes it in
    assist.propose({ probabilities, probabilitiesKey: 'run' }, [{ x: 400, y: 330, leaf: true }])
    const wider = assist.workedRegion!
    assert.ok(wider.x + wider.width > 400 && wider.y + wider.height > 330, `the region ${JSON.stringify(wider)} takes in the click`)
  } finally {
    assist.dispose()
  }
})

test('from a box alone, a photo under a million pixels is worked on whole, as the reference protocol does', () => {
  const { photo } = smallPlant()
  const assist = new GrabCutAssist(photo)
  try {
    assist.propose({ box: { x: 90, y: 70, width: 60, height: 60 } }, [])
    assert.deepEqual(assist.workedRegion, { x: 0, y: 0, width: photo.width, height: photo.height })
  } finally {
    assist.dispose()
  }
})
