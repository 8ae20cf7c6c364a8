import { rootCertificates } from 'node:tls'
import type { FetchLike } from '@tokenwell/core'
import { Agent, fetch as undiciFetch } from 'undici'

/** TLS settings of the token endpoint connection. */
export interface TlsFetchOptions {
  /** Extra trusted CA certificates (PEM), added to Node's built-in roots. */
  ca?: readonly string[] | undefined
  /** Skip certificate verification entirely. @default false */
  insecure?: boolean | undefined
}

/** A fetch with its own connection pool; `close()` releases the pool. */
export interface TlsFetch {
  fetch: FetchLike
  close(): Promise<void>
}

/**
 * A `fetch` for core with custom TLS trust, over an undici 7 `Agent`. Kept this small on
 * purpose: `createNodeFetch({ ca, insecure })` from `@tokenwell/node` replaces it once that lands.
 */
export function createTlsFetch(options: TlsFetchOptions): TlsFetch {
  const agent = new Agent({
    connect: {
      // `ca` replaces the default roots in Node, so keep them: --ca means "trust this one too"
      ...(options.ca?.length && { ca: [...rootCertificates, ...options.ca] }),
      rejectUnauthorized: options.insecure !== true,
    },
  })
  return {
    async fetch(request) {
      // undici's fetch does not accept Node's global Request class, so pass its parts
      const body = request.body === null ? undefined : await request.arrayBuffer()
      return (await undiciFetch(request.url, {
        method: request.method,
        headers: [...request.headers],
        redirect: request.redirect,
        signal: request.signal,
        dispatcher: agent,
        ...(body !== undefined && { body }),
      })) as unknown as Response
    },
    close: () => agent.close(),
  }
}
