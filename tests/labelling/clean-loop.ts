// Cleans a project again and again until killed, in its own process: the cross-process clean-up test's rival.
// usage: node --import tsx clean-loop.ts PROJECT_DIR
import { openProject } from '../../src/main/core/project'
import { cleanProject } from '../../src/main/core/store/clean'

const project = openProject(process.argv[2])
for (let i = 0; ; i++) {
  const report = cleanProject(project)
  process.stdout.write(`cleaned ${i} ${report.files}\n`)
  await new Promise((resolve) => setImmediate(resolve))
}
