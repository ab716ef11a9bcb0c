// One error type for bad dataset input, so a job can tell "this file is wrong" (skip it, tell the user)
// from a bug or a full disk (stop). The message already names the file and says what is wrong.

export type DatasetErrorCode =
  'zero-bytes' | 'not-an-image' | 'truncated' | 'unreadable' | 'unsupported' | 'mask-size' | 'corrupt-export' | 'auth' | 'expired' | 'download'

export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    readonly file: string,
    message: string
  ) {
    super(message)
    this.name = 'DatasetError'
  }
}
