// Every job kind the job process knows. Params were validated when the job was created.
import type { JobHandler } from './context'
import { demoJob } from './demo'

export const jobHandlers: Record<string, JobHandler<never>> = {
  demo: demoJob
}
