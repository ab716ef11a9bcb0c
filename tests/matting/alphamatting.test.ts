// Accuracy check on the alphamatting.com low-resolution training set (27 photos, about a minute), run
// wherever ../shared/data holds it (CI does); LEAFSEG_SKIP_ALPHAMATTING=1 leaves it out of a quick run.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readRaster } from '../../src/main/core/imaging/raster'
import { closedFormMatte } from '../../src/main/core/matting/closedForm'
import { mattingErrors } from '../../src/main/core/matting/accuracy'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dataDir = resolve(repoRoot, '..', 'shared', 'data', 'alphamatting-lowres')
const present = existsSync(join(dataDir, 'input_training_lowres'))
const wanted = process.env.LEAFSEG_SKIP_ALPHAMATTING !== '1'

test(
  'closed-form matting on alphamatting lowres: mean SAD ≤ 5.5 (pymatting 5.33)',
  { skip: !present ? `no data at ${dataDir}` : !wanted && 'LEAFSEG_SKIP_ALPHAMATTING=1' },
  async () => {
    let sadSum = 0
    let mseSum = 0
    for (let i = 1; i <= 27; i++) {
      const name = `GT${String(i).padStart(2, '0')}.png`
      const photo = await readRaster(join(dataDir, 'input_training_lowres', name), 3)
      const trimap = await readRaster(join(dataDir, 'trimap_training_lowres', 'Trimap1', name), 1)
      const truth = await readRaster(join(dataDir, 'gt_training_lowres', name), 1)
      const { alpha } = closedFormMatte(photo.data, trimap.data, photo.width, photo.height)
      const errors = mattingErrors(alpha, truth.data, trimap.data)
      sadSum += errors.sad
      mseSum += errors.mse
    }
    const meanSad = sadSum / 27
    const meanMse = mseSum / 27
    assert.ok(meanSad <= 5.5, `mean SAD ${meanSad.toFixed(3)}`)
    assert.ok(meanMse <= 23, `mean MSE ${meanMse.toFixed(3)}`)
  }
)
