// API area: the jobs of the open project — list, cancel, clear, wait — and the test job.
import { z } from 'zod'
import type { JobsApi } from '../../../shared/api/jobs'
import { ApiError } from '../../../shared/errors'
import type { Methods, Schemas } from './area'
import { id, none } from './schema-parts'
import type { ServiceContext } from './context'

type K = keyof JobsApi

export const jobsSchemas: Schemas<K> = {
  'jobs.list': none,
  'jobs.cancel': z.object({ id }).strict(),
  'jobs.clear': none,
  'jobs.wait': z.object({ id }).strict(),
  'jobs.startDemo': z
    .object({ steps: z.number().int().min(1).max(100_000), stepMs: z.number().int().min(0).max(60_000), failAt: z.number().int().min(0).optional() })
    .strict()
}

export function jobsMethods(s: ServiceContext): Methods<K> {
  return {
    async 'jobs.list'() {
      return s.current?.jobs.list() ?? []
    },
    async 'jobs.cancel'({ id }) {
      return s.requireProject().jobs.cancel(id)
    },
    async 'jobs.clear'() {
      const { jobs } = s.requireProject()
      jobs.clear()
      return jobs.list()
    },
    async 'jobs.wait'({ id }) {
      return s.requireProject().jobs.wait(id)
    },
    async 'jobs.startDemo'(args) {
      if (!s.options.demoJob) throw new ApiError('not_found', 'The test job exists only in development and tests.')
      return s.requireProject().jobs.start('demo', `Test job (${args.steps} steps)`, args)
    }
  }
}
