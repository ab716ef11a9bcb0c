// The generic adapter step every host shares: look the method up, validate its argument, call it,
// and turn any failure into a typed error. Hosts only move bytes.
import type { ApiMethod } from '../../../shared/api'
import { ApiError, isApiErrorShape, type ApiErrorShape } from '../../../shared/errors'
import { apiSchemas } from './schemas'
import type { LeafsegService } from './service'

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorShape }

export function toApiError(err: unknown): ApiErrorShape {
  if (err instanceof ApiError || isApiErrorShape(err)) return { code: err.code, message: err.message }
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENOSPC') return { code: 'io', message: `The disk is full: ${e.message}` }
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return { code: 'io', message: `Permission denied: ${e.message}` }
  return { code: 'internal', message: e instanceof Error ? e.message : String(err) }
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
    return { ok: false, error: toApiError(err) }
  }
}
