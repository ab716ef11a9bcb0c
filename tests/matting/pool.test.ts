// Batch matting on two cores: every photo matted once, by this process or the helper process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { writePng } from '../../src/main/core/imaging/raster'
import { matteOnCores, type MatteOutcome } from '../../src/main/core/matting/pool'
import type { MatteItem } from '../../src/main/core/matting/files'
import { tempDir } from '../helpers/temp'

async function items(n: number): Promise<MatteItem[]> {
  const dir = tempDir()
  const W = 60
  const H = 40
  const out: MatteItem[] = []
  for (let i = 0; i < n; i++) {
    const rgb = new Uint8Array(W * H * 3)
    const trimap = new Uint8Array(W * H)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - 30, y - 20)
        const a = Math.min(1, Math.max(0, (14 - d) / 3))
        rgb.set([200 - 150 * a, 190 - 30 * a + i, 180 - 140 * a], (y * W + x) * 3)
        trimap[y * W + x] = d < 9 ? 255 : d > 17 ? 0 : 128
      }
    await writePng(join(dir, `p${i}.png`), { width: W, height: H, channels: 3, data: rgb })
    await writePng(join(dir, `t${i}.png`), { width: W, height: H, channels: 1, data: trimap })
    out.push({ image: join(dir, `p${i}.png`), trimap: join(dir, `t${i}.png`), alphaOut: join(dir, `a${i}.png`) })
  }
  return out
}

test('every photo is matted exactly once, on both cores when there are two', async () => {
  const list = await items(6)
  const outcomes: MatteOutcome[] = []
  await matteOnCores(list, new AbortController().signal, (o) => {
    outcomes.push(o)
  })
  assert.deepEqual(outcomes.map((o) => o.item.alphaOut).sort(), list.map((i) => i.alphaOut).sort())
  assert.ok(outcomes.every((o) => o.result && !o.error))
  for (const i of list) assert.ok(existsSync(i.alphaOut))
  if (cpus().length > 1) assert.ok(outcomes.some((o) => o.by === 'helper') && outcomes.some((o) => o.by === 'this process'))
})

test('a bad item is reported by name and the rest go on; cancel stops the batch', async () => {
  const list = await items(3)
  list[1] = { ...list[1], trimap: join(tempDir(), 'missing.png') }
  const outcomes: MatteOutcome[] = []
  await matteOnCores(list, new AbortController().signal, (o) => {
    outcomes.push(o)
  })
  assert.equal(outcomes.length, 3)
  assert.match(outcomes.find((o) => o.error)!.error!, /missing\.png/)

  const controller = new AbortController()
  const many = await items(8)
  let seen = 0
  await assert.rejects(
    matteOnCores(many, controller.signal, () => {
      if (++seen === 2) controller.abort()
    })
  )
  assert.ok(seen < 8)
})
