// Errors cross every boundary as a typed code plus a message a person can act on.

export type ErrorCode =
  | 'invalid_argument' // the request did not match its schema
  | 'not_found'
  | 'not_a_project'
  | 'project_too_new'
  | 'no_project_open'
  | 'conflict'
  | 'io' // reading or writing a file failed
  | 'bad_input' // a file the user gave is unusable (names the file)
  | 'cancelled'
  | 'forbidden' // a path outside the project and the folders the user chose
  | 'internal'

export interface ApiErrorShape {
  code: ErrorCode
  message: string
}

/** One field of an argument that its schema refused, and what is wrong with it ("at most 1"). */
export interface FieldProblem {
  /** The field's path in the argument, dot-separated ("config.epochs", "ratio.0"). */
  field: string
  problem: string
}

export class ApiError extends Error implements ApiErrorShape {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For a refused argument: the method, and each field and its problem (so a host can name its own flag). */
    readonly refused?: { method: string; fields: FieldProblem[] }
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toJSON(): ApiErrorShape {
    return { code: this.code, message: this.message }
  }
}

export function isApiErrorShape(value: unknown): value is ApiErrorShape {
  return (
    typeof value === 'object' && value !== null && typeof (value as ApiErrorShape).code === 'string' && typeof (value as ApiErrorShape).message === 'string'
  )
}

/**
 * What went wrong, in words, whatever was thrown: an Error's message, a string, and never "undefined" or an empty
 * reason. OpenCV's wasm build throws bare numbers (a pointer to its exception), which say nothing to a person.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name || 'an error without a message'
  if (typeof err === 'string' && err.trim()) return err
  if (typeof err === 'number') return `an internal error of the image library (code ${err}): try again, or report it with the photo`
  if (isApiErrorShape(err)) return err.message
  return `an unexpected error (${String(err)})`
}
