// Saves a photo's mask again and again, alternating two masks, until killed: the kill test's victim.
// usage: node --import tsx save-loop.ts PROJECT_DIR PHOTO_ID WIDTH HEIGHT
import { openProject } from '../../src/main/core/project'
import { saveMadeMask } from '../../src/main/core/labelling/masks'

const [dir, photoId, width, height] = process.argv.slice(2)
const project = openProject(dir)
const n = Number(width) * Number(height)
const masks = [new Uint8Array(n).fill(255, 0, n / 2), new Uint8Array(n).fill(255, n / 4)]
for (let i = 0; ; i++) {
  await saveMadeMask(project, Number(photoId), masks[i % 2], 'drawn')
  process.stdout.write(`saved ${i}\n`)
}
