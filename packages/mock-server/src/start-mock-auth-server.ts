import type { Server } from 'node:http'
import { createMockAuthServer, type MockAuthServer } from './auth-server.js'
import { type ServeOptions, serveFetchHandler } from './node-server.js'
import type { MockAuthServerOptions } from './options.js'

export interface StartMockAuthServerOptions extends MockAuthServerOptions, ServeOptions {}

/** A mock authorization server listening on loopback. */
export interface RunningMockAuthServer extends MockAuthServer {
  /** `http://127.0.0.1:PORT`; also the issuer. */
  readonly url: string
  readonly port: number
  /** The underlying `node:http` server. */
  readonly server: Server
  /** Stops the server and closes every connection. */
  close(): Promise<void>
}

/**
 * Starts a real OAuth 2.0 authorization server on `127.0.0.1`, port 0 (a free port) by default.
 * The issuer is its URL; the token endpoint is `${url}/token`.
 * @example
 * const auth = await startMockAuthServer({ clients: [{ clientId: 'svc', clientSecret: 's3cret' }] })
 * // … createTokenProvider({ tokenEndpoint: auth.tokenEndpoint, clientId: 'svc', clientSecret: 's3cret' })
 * expect(auth.stats.tokenRequests).toBe(1)
 * await auth.close()
 */
export async function startMockAuthServer(
  options: StartMockAuthServerOptions = {},
): Promise<RunningMockAuthServer> {
  const { port, host, ...rest } = options
  let auth: MockAuthServer | undefined
  // the issuer is the URL, known only once listening; no request can arrive before that
  const served = await serveFetchHandler((request) => auth!.handle(request), {
    ...(port !== undefined && { port }),
    ...(host !== undefined && { host }),
  })
  try {
    auth = createMockAuthServer({ ...rest, issuer: served.url })
  } catch (error) {
    await served.close()
    throw error
  }
  return Object.assign(auth, {
    url: served.url,
    port: served.port,
    server: served.server,
    close: served.close,
  })
}
