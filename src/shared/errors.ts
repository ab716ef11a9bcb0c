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
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiErrorShape).code === 'string' &&
    typeof (value as ApiErrorShape).message === 'string'
  )
}
