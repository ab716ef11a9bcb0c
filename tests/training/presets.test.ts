// One preset table and one fromPreset, read by the CLI, the Training view and the service: what a preset plus a
// person's choices becomes, what each is called, and the one clamp of the CPU workers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { clampWorkers, fromPreset, presetLabels, TRAINING_PRESETS } from '../../src/shared/training-config'
import { trainingBounds } from '../../src/shared/bounds'

test('fromPreset: the preset’s values, each choice given in their place; undefined choices keep the preset’s', () => {
  const fast = TRAINING_PRESETS.find((p) => p.name === 'fast-cpu')!.config
  assert.deepEqual(fromPreset('fast-cpu'), fast)
  const chosen = fromPreset('fast-cpu', { epochs: 3, batchSize: 2, learningRate: undefined, instances: true })
  assert.deepEqual(chosen, { ...fast, epochs: 3, batchSize: 2, instances: true })
  assert.equal(chosen.preset, 'fast-cpu', 'training choices keep the preset')
  chosen.augment.flips = false
  assert.equal(fast.augment.flips, true, 'a configuration made from a preset never changes the preset')
})

test('fromPreset: a network other than the preset’s is custom; the preset’s own network is not', () => {
  assert.equal(fromPreset('seed', { inputSize: 64 }).preset, 'custom')
  assert.equal(fromPreset('seed', { depth: 3 }).preset, 'custom')
  const seed = TRAINING_PRESETS.find((p) => p.name === 'seed')!.config
  assert.equal(fromPreset('seed', { inputSize: seed.inputSize, baseFilters: seed.baseFilters }).preset, 'seed')
  assert.throws(() => fromPreset('tiny' as 'seed'), /There is no training preset “tiny”; the presets are fast-cpu and leaves-cpu and seed/)
})

test('every preset and a custom network have one label, and the presets carry it', () => {
  for (const p of TRAINING_PRESETS) assert.equal(p.label, presetLabels[p.name])
  assert.equal(presetLabels.custom, 'Custom U-Net')
})

test('clampWorkers: at least one, at most the batch and the bound', () => {
  assert.equal(clampWorkers(0, 8), 1)
  assert.equal(clampWorkers(3, 8), 3)
  assert.equal(clampWorkers(12, 8), 8)
  assert.equal(clampWorkers(10_000, 10_000), trainingBounds.workers.max)
})
