import type { Command } from '../command'
import { UsageError, optionalNumber, requireString } from '../command'
import { printLine, withSession } from '../session'
import type { LossName, PresetName, RunEpoch, RunSummary, TrainingBackendChoice, TrainingConfig } from '../../shared/api/training'
import { defaultPresetName, fromPreset, NO_AUGMENTATIONS, presetNames, TRAINING_PRESETS } from '../../shared/training-config'
import type { JobInfo } from '../../shared/api/jobs'
import { trainingScoresMeasure } from '../../shared/measures'

const f3 = (x: number) => x.toFixed(3)

function epochLine(e: RunEpoch, epochs: number): string {
  const t = e.train
  const v = e.validation
  return (
    `epoch ${String(e.epoch).padStart(String(epochs).length)}/${epochs}  ` +
    `train loss ${f3(t.loss)} acc ${f3(t.accuracy)} IoU ${f3(t.iou)} Dice ${f3(t.dice)}  |  ` +
    `val loss ${f3(v.loss)} acc ${f3(v.accuracy)} IoU ${f3(v.iou)} Dice ${f3(v.dice)}` +
    (e.leaves ? `  leaves SBD ${f3(e.leaves.sbd)} |DiC| ${e.leaves.absDic.toFixed(2)}` : '') +
    `  ${e.seconds.toFixed(1)} s${e.best ? '  *best' : ''}`
  )
}

const cliBackends: TrainingBackendChoice[] = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu']

function cliBackend(value: string | undefined): TrainingBackendChoice {
  if (value === undefined) return 'auto'
  if (value === 'webgl')
    throw new UsageError(
      `--backend webgl trains in the desktop app only: its GPU worker runs in the app's Chromium, and the command line has none. Use --backend auto, webgpu, tensorflow, wasm or cpu here.`
    )
  if (!cliBackends.includes(value as TrainingBackendChoice))
    throw new UsageError(`--backend must be auto, webgpu, tensorflow, wasm or cpu (webgl in the desktop app), not “${value}”.`)
  return value as TrainingBackendChoice
}

function backendLine(run: RunSummary): string {
  return `Backend: ${run.backend} — ${run.device}${run.backendReason ? ` (${run.backendReason})` : ''}`
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a U-Net on a dataset (or resume a run)',
  usage: `leafseg train --project P --dataset NAME [--preset ${presetNames.join('|')}] [--scale X|whole] [--epochs N] [--batch N] [--lr X] [--loss bce|dice|bce+dice] [--patience N] [--seed N] [--instances] [--workers N] [--backend B] | --project P --resume RUN [--epochs N] [--workers N] [--backend B]`,
  options: {
    project: { type: 'string' },
    dataset: { type: 'string' },
    preset: { type: 'string' },
    name: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    loss: { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
    'input-size': { type: 'string' },
    filters: { type: 'string' },
    depth: { type: 'string' },
    'no-augment': { type: 'boolean' },
    instances: { type: 'boolean' },
    scale: { type: 'string' },
    resume: { type: 'string' },
    backend: { type: 'string' },
    workers: { type: 'string' }
  },
  flags: {
    'datasets.findByName': { name: '--dataset' },
    'training.start': {
      name: '--name',
      'config.inputSize': '--input-size',
      'config.baseFilters': '--filters',
      'config.depth': '--depth',
      'config.batchSize': '--batch',
      'config.epochs': '--epochs',
      'config.learningRate': '--lr',
      'config.loss': '--loss',
      'config.patience': '--patience',
      'config.seed': '--seed',
      'config.workers': '--workers',
      backend: '--backend'
    },
    'training.resume': { runId: '--resume', epochs: '--epochs', workers: '--workers', backend: '--backend' }
  },
  help: [
    '--project P         the project folder',
    '--dataset NAME      the dataset; its training and validation photos with masks are used (frozen with the run)',
    ...TRAINING_PRESETS.map((p, i) => {
      const name = `${p.name}${p.name === defaultPresetName ? ' (default)' : ''}`
      return `${i === 0 ? '--preset NAME      ' : '                   '} ${name}: ${p.label} — ${p.description}`
    }),
    '--scale X|whole     train on crops of the photo at scale X (network pixels per photo pixel; prediction tiles at',
    "                    the same scale), or on whole photos squeezed to the input size; default: the preset's",
    '--epochs N          epochs to train (with --resume: continue up to N)',
    '--batch N           batch size',
    '--lr X              learning rate (Adam)',
    '--loss L            bce, dice or bce+dice',
    '--patience N        stop after N epochs without a better validation score (0: never): SBD for a run that',
    '                    separates leaves, else IoU; the best checkpoint is chosen by the same score',
    '--seed N            random seed (weights, shuffling, augmentation)',
    '--input-size N, --filters N, --depth N   a custom network',
    '--no-augment        train without augmentation',
    '--workers N         worker threads training on the CPU (wasm backend), each on its share of every batch',
    '                    (default: the cores less one, at most the batch size); recorded with the run, and',
    '                    changed by --resume RUN --workers N',
    "--instances         separate leaves: also learn where each leaf's middle is, and split masks into leaves (needs masks that",
    '                    tell leaves apart: a colour or an index per leaf, or COCO/Labelbox objects)',
    '--name TEXT         a name for the run',
    '--resume RUN        continue run RUN from its last checkpoint',
    '--backend B         auto (default: native TensorFlow on a CUDA GPU, else WebGPU on a hardware GPU, else native CPU,',
    '                    else wasm), webgpu (any GPU without CUDA, through Dawn: Vulkan, Metal or D3D12), tensorflow, wasm',
    "                    or cpu. webgl is the desktop app's (its GPU worker runs in the app's Chromium). A run can be",
    '                    resumed on another backend.',
    'Prints the metrics of every epoch and the run id; Ctrl-C cancels and keeps the last checkpoint.'
  ],
  async run({ values, json }) {
    const project = requireString(values, 'project')
    const resumeId = optionalNumber(values, 'resume')
    const epochs = optionalNumber(values, 'epochs')
    const preset = (values.preset as string | undefined) ?? defaultPresetName
    const network = { inputSize: optionalNumber(values, 'input-size'), baseFilters: optionalNumber(values, 'filters'), depth: optionalNumber(values, 'depth') }
    const choices = {
      epochs,
      batchSize: optionalNumber(values, 'batch'),
      learningRate: optionalNumber(values, 'lr'),
      loss: values.loss as LossName | undefined,
      patience: optionalNumber(values, 'patience'),
      seed: optionalNumber(values, 'seed'),
      workers: optionalNumber(values, 'workers')
    }
    const scale = values.scale as string | undefined
    const sampling: TrainingConfig['sampling'] =
      scale === undefined ? undefined : scale === 'whole' ? { mode: 'whole' } : { mode: 'crops', scale: Number(scale) }
    if (sampling?.mode === 'crops' && !(sampling.scale > 0 && sampling.scale <= 4))
      throw new UsageError(`--scale must be a number above 0 and at most 4, or whole; not “${scale}”.`)
    const backend = cliBackend(values.backend as string | undefined)
    return withSession(json, async (cli) => {
      let backendShown = false
      let started: { run: RunSummary; job: JobInfo<'train'> } | undefined
      // The job process records the backend it really started, then reports progress: print it then, first.
      const showBackend = async () => {
        if (json || backendShown || !started) return
        const run = await cli.call('runs.get', { id: started.run.id })
        if (run.backend === null || backendShown) return
        backendShown = true
        printLine(backendLine(run))
      }
      const unsubscribeJob = cli.on('job.updated', (job) => {
        if (job.id === started?.job.id) void showBackend()
      })
      const unsubscribe = cli.on('training.progress', (p) => {
        if (json) return
        if (p.kind === 'epoch') void showBackend().then(() => printLine(epochLine(p.metrics, p.epochs)))
      })
      try {
        await cli.open(project)
        const start = async () => {
          if (resumeId !== undefined) {
            started = await cli.call('training.resume', { runId: resumeId, epochs, backend, workers: choices.workers })
          } else {
            const dataset = await cli.call('datasets.findByName', { name: requireString(values, 'dataset') })
            if (!presetNames.includes(preset as PresetName)) throw new UsageError(`--preset must be ${presetNames.join(' or ')}, not “${preset}”.`)
            // Unset choices keep the preset's; the API checks every value against its bounds.
            const config = fromPreset(preset as PresetName, {
              ...network,
              ...choices,
              instances: values.instances ? true : undefined,
              sampling,
              augment: values['no-augment'] ? NO_AUGMENTATIONS : undefined
            })
            started = await cli.call('training.start', { datasetId: dataset.id, name: values.name as string | undefined, config, backend })
          }
          const { run } = started
          if (!json) {
            const c = run.config
            console.log(
              `${resumeId !== undefined ? 'Resuming' : 'Training'} run ${run.id} “${run.name}”: ${run.trainPhotos} training and ${run.valPhotos} validation photos; ` +
                `${c.inputSize} px, ${c.baseFilters} base filters, depth ${c.depth}, batch ${c.batchSize}, ${c.epochs} epochs, lr ${c.learningRate}, loss ${c.loss}${c.instances ? ', separating leaves' : ''}, ${c.sampling?.mode === 'crops' ? `crops at scale ${c.sampling.scale}` : 'whole photos'}.`
            )
          }
          return started.job
        }
        let job
        try {
          job = await cli.runJob(start)
        } catch (err) {
          const id = started?.run.id
          if (id !== undefined && !json) console.error(`Run ${id} keeps its last checkpoint: continue it with --resume ${id}.`)
          throw err
        }
        const result = job.result
        const run = await cli.call('runs.get', { id: result.runId })
        if (!json) {
          if (!backendShown) console.log(backendLine(run))
          console.log(
            `Run ${run.id} ${result.stoppedEarly ? 'stopped early' : 'finished'} after ${run.epochsDone} epochs in ${run.seconds.toFixed(0)} s; ` +
              `best validation IoU ${run.bestValIoU?.toFixed(3)} (Dice ${run.bestValDice?.toFixed(3)}) at epoch ${run.bestEpoch}. Checkpoints: ${run.bestModel}, ${run.lastModel}`
          )
          console.log(`Validation scores are measured on ${trainingScoresMeasure(run.config.inputSize)}; \`leafseg eval\` measures at full resolution.`)
        }
        const { snapshot: _snapshot, ...summary } = run
        return { run: summary }
      } finally {
        unsubscribe()
        unsubscribeJob()
      }
    })
  }
}
