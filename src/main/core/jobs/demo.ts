// A job that only counts: proves the job path (process, progress, cancel, failure) end to end.
import { ApiError } from '../../../shared/errors'
import type { JobContext } from './context'

export interface DemoParams {
  steps: number
  stepMs: number
  failAt?: number
}

export async function demoJob(params: DemoParams, ctx: JobContext): Promise<{ steps: number }> {
  for (let i = 0; i < params.steps; i++) {
    ctx.signal.throwIfAborted()
    if (params.failAt === i) throw new ApiError('bad_input', `Demo job failed on purpose at step ${i}.`)
    await new Promise((r) => setTimeout(r, params.stepMs))
    ctx.progress(i + 1, params.steps, `step ${i + 1} of ${params.steps}`)
  }
  return { steps: params.steps }
}
