import { createMockAuthServer, type MockAuthServer } from './auth-server.js'
import { createProtectedApi, type ProtectedApi, type ProtectedApiOptions } from './protected-api.js'
import { serveFetchHandlerTls, type TlsOptions } from './serve-tls.js'
import type { RunningMockAuthServer, StartMockAuthServerOptions } from './start-mock-auth-server.js'
import type { RunningProtectedApi } from './start-protected-api.js'

export interface StartMockAuthServerTlsOptions extends Omit<StartMockAuthServerOptions, 'mtlsOrigin'> {
  /** The servers' certificate and key, and the CA that verifies client certificates (`ca`). */
  tls: Omit<TlsOptions, 'requestCert'>
}

/** A mock authorization server on two HTTPS listeners: the issuer's, and a mutual-TLS one. */
export interface RunningMockAuthServerTls extends RunningMockAuthServer {
  /** The origin of the listener that asks for client certificates (`mtls_endpoint_aliases`). */
  readonly mtlsUrl: string
}

/**
 * Starts the mock authorization server over HTTPS on loopback: the issuer's listener asks for
 * no client certificate; a second one does, and the metadata names its endpoints as
 * `mtls_endpoint_aliases`. There, `tls_client_auth` and `self_signed_tls_client_auth` work and
 * every token is bound to the certificate (`cnf.x5t#S256`). With `tls.requireClientCertificate`,
 * that listener refuses a handshake without a certificate `tls.ca` verifies.
 * @see RFC 8705
 * @example
 * const auth = await startMockAuthServerTls({ tls: { cert, key, ca }, clients: [{ clientId: 'svc',
 *   authMethods: ['tls_client_auth'], tlsClientAuthSubjectDn: 'CN=svc' }] })
 */
export async function startMockAuthServerTls(
  options: StartMockAuthServerTlsOptions,
): Promise<RunningMockAuthServerTls> {
  const { port, host, tls, ...rest } = options
  let auth: MockAuthServer | undefined
  const handler = (request: Request) => auth!.handle(request)
  const serve = { ...(port !== undefined && { port }), ...(host !== undefined && { host }) }
  const main = await serveFetchHandlerTls(handler, {
    ...serve,
    tls: { ...tls, requireClientCertificate: false },
  })
  const mtls = await serveFetchHandlerTls(handler, {
    ...(host !== undefined && { host }),
    tls: { ...tls, requestCert: true },
  }).catch(async (error: unknown) => {
    await main.close()
    throw error
  })
  const close = async () => {
    await Promise.all([main.close(), mtls.close()])
  }
  try {
    auth = createMockAuthServer({ ...rest, issuer: main.url, mtlsOrigin: mtls.url })
  } catch (error) {
    await close()
    throw error
  }
  return Object.assign(auth, {
    url: main.url,
    port: main.port,
    server: main.server,
    mtlsUrl: mtls.url,
    close,
  })
}

export interface StartProtectedApiTlsOptions extends ProtectedApiOptions {
  port?: number
  host?: string
  /** The API's certificate and key; client certificates are asked for (and checked against bound tokens). */
  tls: Omit<TlsOptions, 'requestCert'>
}

/**
 * Starts the protected API over HTTPS, asking clients for a certificate: a certificate-bound
 * token (`cnf.x5t#S256`) is accepted only on a connection that presented that certificate.
 * @see RFC 8705 §3
 */
export async function startProtectedApiTls(
  options: StartProtectedApiTlsOptions,
): Promise<RunningProtectedApi> {
  const { port, host, tls, ...rest } = options
  const api: ProtectedApi = createProtectedApi({ certificateBoundTokens: true, ...rest })
  const served = await serveFetchHandlerTls(api.handle, {
    ...(port !== undefined && { port }),
    ...(host !== undefined && { host }),
    tls: { ...tls, requestCert: true },
  })
  return Object.assign(api, {
    url: served.url,
    port: served.port,
    server: served.server,
    close: served.close,
  })
}
