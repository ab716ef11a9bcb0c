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

export class ApiError extends Error implements ApiErrorShape {
  constructor(
    readonly code: ErrorCode,
    message: string
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
