import { type HttpHandler, http } from 'msw'
import { setupServer } from 'msw/node'
import { createMockAuthServer, type MockAuthServer } from './auth-server.js'
import type { MockAuthServerOptions } from './options.js'
import { createProtectedApi, type ProtectedApi, type ProtectedApiOptions } from './protected-api.js'

/** An msw server for unit tests; tests add handlers with `server.use()`. */
export const server = setupServer()

export interface MockAuthHandlersOptions extends MockAuthServerOptions {
  /** Where the server answers, e.g. `https://as.test`; it is also the issuer. */
  baseUrl: string
  /** Serve an existing server instead of creating one (the other options are then ignored). */
  authServer?: MockAuthServer
}

/** msw handlers plus the server behind them, for stats, faults and `verifyAccessToken`. */
export type MockAuthHandlers = HttpHandler[] & { readonly authServer: MockAuthServer }

/**
 * The mock authorization server as msw handlers: the same behaviour as `startMockAuthServer`, in process.
 * @example
 * const handlers = mockAuthHandlers({ baseUrl: 'https://as.test' })
 * server.use(...handlers)
 * // … createTokenProvider({ tokenEndpoint: 'https://as.test/token', clientId: 'demo-client', clientSecret: 'demo-secret' })
 * expect(handlers.authServer.stats.tokenRequests).toBe(1)
 */
export function mockAuthHandlers(options: MockAuthHandlersOptions): MockAuthHandlers {
  const { baseUrl, authServer, ...rest } = options
  const auth = authServer ?? createMockAuthServer({ ...rest, issuer: baseUrl })
  const base = auth.issuer
  const origin = new URL(base).origin
  const handlers = [
    http.all(`${base}/*`, ({ request }) => auth.handle(request)),
    // RFC 8414 §3.1: the well-known document of an issuer with a path lives at the origin
    ...(origin === base ? [] : [http.all(`${origin}/.well-known/*`, ({ request }) => auth.handle(request))]),
  ]
  return Object.assign(handlers, { authServer: auth })
}

export interface MockProtectedApiHandlersOptions extends ProtectedApiOptions {
  /** Where the API answers, e.g. `https://api.test`. */
  baseUrl: string
}

/** The protected API as msw handlers, plus its stats and log. */
export type MockProtectedApiHandlers = HttpHandler[] & { readonly api: ProtectedApi }

/**
 * The protected API (see `createProtectedApi`) as msw handlers.
 * @example
 * const auth = mockAuthHandlers({ baseUrl: 'https://as.test' })
 * const api = mockProtectedApiHandlers({ baseUrl: 'https://api.test', authServer: auth.authServer })
 * server.use(...auth, ...api)
 */
export function mockProtectedApiHandlers(options: MockProtectedApiHandlersOptions): MockProtectedApiHandlers {
  const { baseUrl, ...rest } = options
  const api = createProtectedApi(rest)
  const base = baseUrl.replace(/\/+$/, '')
  return Object.assign([http.all(`${base}/*`, ({ request }) => api.handle(request))], { api })
}
