import { TokenwellError } from '@tokenwell/core'

/**
 * Redis failed, was too slow, or held a value this store cannot read (`ERR_STORE`). Core turns
 * it into a cache miss and a `store-error` event: a request never fails because of it. The
 * message never holds a key's value; `cause` keeps only the client error's name and message.
 */
export class RedisStoreError extends TokenwellError {
  // spelled out: a minifier renames the class, and the name is what logs and isTokenwellError read
  override name = 'RedisStoreError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_STORE', options)
  }
}

/**
 * A copy of a client error with its name and message only: some clients attach the failed
 * command and its arguments (a token, when the command wrote one) to the error object.
 */
export function sanitizeCause(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error))
  const copy = new Error(source.message.slice(0, 300))
  copy.name = source.name
  return copy
}
