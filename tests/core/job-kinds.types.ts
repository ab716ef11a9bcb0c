// A type-level test, checked by `tsc -p tsconfig.node.json` (npm run typecheck), never run: each line
// marked as an expected error must fail to compile, so a misspelt job kind, param or result is caught by the
// compiler in the core (JobRunner.start, handlers), in any host (reading job.result) and in a view's filter.
import type { JobRunner } from '../../src/main/core/jobs/runner'
import type { JobHandler, JobHandlers } from '../../src/main/core/jobs/context'
import { isJobOf, type JobInfo } from '../../src/shared/api/jobs'
import type { LeafsegClient } from '../../src/shared/api'

export function startingAJob(runner: JobRunner): void {
  runner.start('import-photos', 'Import', { datasetId: 1, paths: ['/photos'] })
  // @ts-expect-error a misspelt kind
  runner.start('import-photo', 'Import', { datasetId: 1, paths: ['/photos'] })
  // @ts-expect-error a misspelt param
  runner.start('import-photos', 'Import', { datasetID: 1, paths: ['/photos'] })
  // @ts-expect-error a param of the wrong type
  runner.start('trimaps', 'Trimaps', { datasetId: 1, settings: { kernelSize: '5', fgIterations: 5, bgIterations: 5 } })
  // @ts-expect-error another kind's params
  runner.start('train', 'Train', { datasetId: 1, paths: [] })
  const job = runner.start('train', 'Train', { runId: 1, resume: false })
  if (job.result) {
    const runId: number = job.result.runId
    void runId
    // @ts-expect-error a misspelt result field
    void job.result.runID
  }
}

export function readingAResult(job: JobInfo): void {
  if (job.kind === 'import-masks' && job.result) {
    const masks: number = job.result.masks
    void masks
    // @ts-expect-error the result of another kind
    void job.result.imported
  }
  // @ts-expect-error a misspelt kind in a comparison
  if (job.kind === 'predikt') return
  // @ts-expect-error the result is unknown until the kind is known
  void job.result.batchId
}

export function aViewsFilter(jobs: JobInfo[]): void {
  const mine = jobs.filter((j) => isJobOf(j, 'predict', 'measure'))
  for (const j of mine) if (j.kind === 'predict' && j.result) void j.result.batchId
  // @ts-expect-error a misspelt kind in a filter
  jobs.filter((j) => isJobOf(j, 'predicts'))
}

export async function throughTheApi(client: LeafsegClient): Promise<void> {
  const job = await client.call('evaluations.start', { runId: 1, checkpoint: 'best', source: 'val' })
  if (job.result) void job.result.evaluationId
  // @ts-expect-error a misspelt result field of the API's typed job
  if (job.result) void job.result.evaluationID
}

// A handler must take and give its kind's types.
export const goodHandler: JobHandler<'demo'> = async (params) => ({ steps: params.steps })
// @ts-expect-error a handler that gives the wrong result
export const badHandler: JobHandler<'demo'> = async (params) => ({ step: params.steps })
// @ts-expect-error a registry that misses a kind
export const incomplete: JobHandlers = { demo: goodHandler }
