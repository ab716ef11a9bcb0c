// The generic adapter step every host shares: look the method up, validate its argument, call it,
// and turn any failure into a typed error. Hosts only move bytes.
import type { ApiMethod } from '../../../shared/api'
import type { ApiErrorShape } from '../../../shared/errors'
import { toErrorShape, type FailureContext } from '../store/errors'
import { apiSchemas } from './schemas'
import type { LeafsegService } from './service'

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorShape }

/** Any failure as the API's typed error (see store/errors.ts: SQLite and file system errors in plain words). */
export function toApiError(err: unknown, context: FailureContext = {}): ApiErrorShape {
  return toErrorShape(err, context)
}

export async function dispatch(service: LeafsegService, method: string, args: unknown): Promise<DispatchResult> {
  if (!Object.hasOwn(apiSchemas, method)) {
    return { ok: false, error: { code: 'not_found', message: `Unknown API method “${method}”.` } }
  }
  const parsed = apiSchemas[method as ApiMethod].safeParse(args ?? {})
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`).join('; ')
    return { ok: false, error: { code: 'invalid_argument', message: `${method}: ${detail}` } }
  }
  try {
    const fn = service.api[method as ApiMethod] as (a: unknown) => Promise<unknown>
    const value = await fn(parsed.data)
    return { ok: true, value: value ?? null }
  } catch (err) {
    const project = service.current?.project
    return { ok: false, error: toApiError(err, { projectDir: project?.dir, readOnlyReason: project?.readOnlyReason }) }
  }
}
