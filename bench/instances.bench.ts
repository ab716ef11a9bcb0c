// Leaf instances on komatsuna (/work/shared/data/komatsuna: 300 photos, one colour per leaf), as a lab would get them
// from the command line: import, `leafseg split --ratio 80/20/0 --seed 1` (240 training, 60 validation photos),
// `leafseg train --preset leaves-cpu` (96 px crops at the photos' own scale, leaf centres, the best epoch by validation
// SBD), `leafseg eval` on the 60 validation photos.
//   instances.komatsuna.sbd      symmetric best Dice, mean over photos, in percent
//   instances.komatsuna.abs_dic  mean |predicted − true leaf count|
//   instances.komatsuna.fbd      foreground-background Dice, in percent
//   instances.komatsuna.train_s  the training run's time
// Reference (CVPPP A1, a set not here): ReSeg with a discriminative loss SBD 87.4, |DiC| 0.6, FBD 96.8 on a 28-photo
// validation split; the discriminative-loss paper SBD 84.2, |DiC| 1.0 on the A1 test set.
// LEAFSEG_BENCH_INSTANCES_EPOCHS and _BATCH set the run (default: the preset's).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench } from './types'

// LEAFSEG_KOMATSUNA: the data elsewhere (a git worktree has no ../shared beside it).
const data = process.env.LEAFSEG_KOMATSUNA ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'komatsuna')
const cli = join(import.meta.dirname, '..', 'bin', 'leafseg.js')
const REFERENCE = 'ReSeg (CVPPP A1 validation): SBD 87.4, |DiC| 0.6, FBD 96.8; discriminative loss (A1 test): SBD 84.2, |DiC| 1.0'

function leafseg(...args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }))
}

const bench: Bench = {
  area: 'instances',
  async run(emit, wanted) {
    const figures = ['instances.komatsuna.sbd', 'instances.komatsuna.abs_dic', 'instances.komatsuna.fbd', 'instances.komatsuna.train_s']
    if (!figures.some(wanted)) return
    if (!existsSync(join(data, 'rgb'))) {
      for (const bench of figures) emit({ bench, value: null, unit: '', note: `no komatsuna data at ${data}` })
      return
    }
    const epochs = process.env.LEAFSEG_BENCH_INSTANCES_EPOCHS
    const batch = process.env.LEAFSEG_BENCH_INSTANCES_BATCH
    const project = join(mkdtempSync(join(tmpdir(), 'leafseg-instances-bench-')), 'komatsuna')
    try {
      leafseg('project', 'create', project, '--name', 'komatsuna')
      leafseg('import', join(data, 'rgb'), '--project', project, '--dataset', 'komatsuna', '--masks', join(data, 'label'))
      leafseg('split', '--project', project, '--dataset', 'komatsuna', '--ratio', '80/20/0', '--seed', '1')
      const trained = leafseg(
        'train',
        '--project',
        project,
        '--dataset',
        'komatsuna',
        '--preset',
        'leaves-cpu',
        ...(epochs ? ['--epochs', epochs] : []),
        ...(batch ? ['--batch', batch] : [])
      ) as {
        run: { id: number; seconds: number; backend: string; device: string; bestEpoch: number; config: { epochs: number; batchSize: number } }
      }
      const { run } = trained
      const evaluated = leafseg('eval', '--project', project, '--run', String(run.id)) as {
        leaves: { sbd: number; absDic: number; dic: number; fbd: number; photos: number } | null
      }
      const leaves = evaluated.leaves
      if (!leaves) throw new Error('The evaluation measured no leaves: the validation photos have no leaf instances.')
      const common = {
        backend: `${run.backend}: ${run.device}`,
        photos: leaves.photos,
        epochs: run.config.epochs,
        batch: run.config.batchSize,
        best_epoch: run.bestEpoch,
        reference: REFERENCE
      }
      emit({ bench: 'instances.komatsuna.sbd', value: +(leaves.sbd * 100).toFixed(2), unit: '%', ...common })
      emit({ bench: 'instances.komatsuna.abs_dic', value: +leaves.absDic.toFixed(3), unit: 'leaves', dic: +leaves.dic.toFixed(3), ...common })
      emit({ bench: 'instances.komatsuna.fbd', value: +(leaves.fbd * 100).toFixed(2), unit: '%', ...common })
      emit({ bench: 'instances.komatsuna.train_s', value: Math.round(run.seconds), unit: 's', ...common })
    } finally {
      rmSync(join(project, '..'), { recursive: true, force: true })
    }
  }
}

export default bench
