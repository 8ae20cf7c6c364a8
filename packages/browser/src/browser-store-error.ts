import { TokenwellError } from '@tokenwell/core'

/**
 * IndexedDB or WebCrypto failed, or held a value this store cannot read (`ERR_STORE`). Core turns
 * it into a cache miss and a `store-error` event: a request never fails because of it. The
 * message never holds a stored value.
 */
export class BrowserStoreError extends TokenwellError {
  // spelled out: a minifier renames the class, and the name is what logs and isTokenwellError read
  override name = 'BrowserStoreError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_STORE', options)
  }
}
