// An API area: the schemas that validate its arguments and the methods that implement it.
// Each area lives in one file; service.ts assembles them, and the compiler checks none is missing.
import type { z } from 'zod'
import type { ApiArgs, ApiMethod, ApiResult } from '../../../shared/api'

export type Schemas<K extends ApiMethod> = { [M in K]: z.ZodType<ApiArgs<M>> }
export type Methods<K extends ApiMethod> = { [M in K]: (args: ApiArgs<M>) => Promise<ApiResult<M>> }
