// One schema per API method: every argument from a renderer is untrusted and checked here,
// at the boundary, by the generic adapters (Electron IPC, web host).
import { z } from 'zod'
import type { ApiArgs, ApiMethod } from '../../../shared/api'

const none = z.object({}).strict()
const path = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'a path cannot contain NUL')
const id = z.number().int().positive()

export const apiSchemas: { [M in ApiMethod]: z.ZodType<ApiArgs<M>> } = {
  'app.info': none,
  'dialog.pickFolder': z.object({ title: z.string().max(200) }).strict(),
  'projects.recent': none,
  'projects.create': z.object({ dir: path, name: z.string().trim().min(1).max(200) }).strict(),
  'projects.open': z.object({ dir: path }).strict(),
  'projects.current': none,
  'projects.close': none,
  'projects.forget': z.object({ dir: path }).strict(),
  'jobs.list': none,
  'jobs.cancel': z.object({ id }).strict(),
  'jobs.startDemo': z
    .object({ steps: z.number().int().min(1).max(100_000), stepMs: z.number().int().min(0).max(60_000), failAt: z.number().int().min(0).optional() })
    .strict()
}

export const apiMethods = Object.keys(apiSchemas) as ApiMethod[]
