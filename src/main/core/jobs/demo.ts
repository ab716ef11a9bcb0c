// A job that only counts: proves the job path (process, progress, cancel, failure) end to end.
import { ApiError } from '../../../shared/errors'
import type { JobHandler } from './context'

export const demoJob: JobHandler<'demo'> = async (params, ctx) => {
  for (let i = 0; i < params.steps; i++) {
    ctx.signal.throwIfAborted()
    if (params.failAt === i) throw new ApiError('bad_input', `Demo job failed on purpose at step ${i}.`)
    await new Promise((r) => setTimeout(r, params.stepMs))
    ctx.progress(i + 1, params.steps, `step ${i + 1} of ${params.steps}`)
  }
  return { steps: params.steps }
}
