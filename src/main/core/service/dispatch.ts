// The generic adapter step every host shares: look the method up, validate its argument, call it,
// and turn any failure into a typed error. Hosts only move bytes.
import type { z } from 'zod'
import type { ApiMethod } from '../../../shared/api'
import type { ApiErrorShape, FieldProblem } from '../../../shared/errors'
import { boundedMessage, toErrorShape, type FailureContext } from '../store/errors'
import { apiSchemas } from './schemas'
import type { LeafsegService } from './service'

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorShape }

/** Any failure as the API's typed error (see store/errors.ts: SQLite and file system errors in plain words). */
export function toApiError(err: unknown, context: FailureContext = {}): ApiErrorShape {
  return toErrorShape(err, context)
}

type Issue = z.core.$ZodIssue

/** One issue in words a person can act on: the field and the bound ("ids: at most 100000 items"). */
function issueProblems(issue: Issue, prefix: PropertyKey[] = []): FieldProblem[] {
  const path = [...prefix, ...issue.path]
  const field = path.map(String).join('.') || 'argument'
  const unit = (origin: string) => (origin === 'array' ? ' items' : origin === 'string' ? ' characters' : '')
  const one = (problem: string) => [{ field, problem }]
  switch (issue.code) {
    case 'too_big':
      return one(`${issue.inclusive === false ? 'below' : 'at most'} ${String(issue.maximum)}${unit(issue.origin)}`)
    case 'too_small':
      if (issue.origin === 'number' && issue.minimum === 0 && issue.inclusive === false) return one('must be above 0')
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return one('must not be empty')
      return one(`at least ${String(issue.minimum)}${unit(issue.origin)}`)
    case 'invalid_union': {
      // The option the argument came closest to (fewest problems) says what is wrong with it.
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]
      return closest?.length ? closest.flatMap((i) => issueProblems(i, path)) : one(issue.message)
    }
    case 'unrecognized_keys': {
      const shown = issue.keys.slice(0, 10).join(', ')
      const more = issue.keys.length > 10 ? ` and ${issue.keys.length - 10} more` : ''
      return one(`unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${shown}${more}`)
    }
    default:
      return one(issue.message)
  }
}

/** Validate a method's argument against its schema: the parsed argument, or the error every host reports (and its fields). */
export function checkArgs(method: string, args: unknown): { ok: true; value: unknown } | { ok: false; error: ApiErrorShape; fields: FieldProblem[] } {
  if (!Object.hasOwn(apiSchemas, method)) {
    return { ok: false, error: { code: 'not_found', message: `Unknown API method “${method}”.` }, fields: [] }
  }
  const parsed = apiSchemas[method as ApiMethod].safeParse(args ?? {})
  if (!parsed.success) {
    const fields = parsed.error.issues.flatMap((i) => issueProblems(i))
    return { ok: false, error: { code: 'invalid_argument', message: boundedMessage(`${method}: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`) }, fields }
  }
  return { ok: true, value: parsed.data }
}

export async function dispatch(service: LeafsegService, method: string, args: unknown): Promise<DispatchResult> {
  const parsed = checkArgs(method, args)
  if (!parsed.ok) return { ok: false, error: parsed.error }
  try {
    const fn = service.api[method as ApiMethod] as (a: unknown) => Promise<unknown>
    const value = await fn(parsed.value)
    return { ok: true, value: value ?? null }
  } catch (err) {
    const project = service.current?.project
    return { ok: false, error: toApiError(err, { projectDir: project?.dir, readOnlyReason: project?.readOnlyReason }) }
  }
}
