import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { attachClientCertificate, type ClientCertificate } from './client-certificate.js'
import {
  type FetchHandler,
  type ServedHandler,
  type ServeOptions,
  toRequest,
  writeResponse,
} from './node-server.js'

export interface TlsOptions {
  /** The server's certificate (PEM). */
  cert: string
  /** Its private key (PEM). */
  key: string
  /** CAs whose client certificates count as verified (`tls_client_auth`). */
  ca?: string | readonly string[]
  /** Ask clients for a certificate. @default false */
  requestCert?: boolean
  /**
   * Refuse the handshake without a certificate the `ca` verifies (otherwise the handler sees any
   * certificate, or none, and decides). Implies `requestCert`. @default false
   */
  requireClientCertificate?: boolean
}

export interface ServeTlsOptions extends ServeOptions {
  tls: TlsOptions
}

function certificateOf(socket: TLSSocket): ClientCertificate | undefined {
  const peer = socket.getPeerX509Certificate?.()
  if (peer === undefined) return undefined
  return {
    thumbprint: createHash('sha256').update(peer.raw).digest('base64url'),
    subject: peer.subject.split('\n').join(','),
    authorized: socket.authorized,
  }
}

/**
 * Serves a fetch-style handler over HTTPS on loopback; with `requestCert`, the certificate a
 * client presents reaches the handler through `clientCertificateOf(request)`.
 * @see RFC 8705
 */
export function serveFetchHandlerTls(
  handler: FetchHandler,
  options: ServeTlsOptions,
): Promise<ServedHandler> {
  const { tls } = options
  const host = options.host ?? '127.0.0.1'
  let origin = ''
  const server: Server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca !== undefined && { ca: typeof tls.ca === 'string' ? tls.ca : [...tls.ca] }),
      requestCert: tls.requestCert === true || tls.requireClientCertificate === true,
      rejectUnauthorized: tls.requireClientCertificate === true,
      keepAliveTimeout: 65_000,
    },
    (req, res) => {
      toRequest(req, origin)
        .then((request) => {
          const certificate = certificateOf(req.socket as TLSSocket)
          if (certificate) attachClientCertificate(request, certificate)
          return handler(request)
        })
        .then((response) => writeResponse(res, response))
        .catch(() => {
          if (!res.headersSent)
            res.writeHead(500, { 'content-type': 'text/plain' }).end('mock server failure')
          else res.destroy()
        })
    },
  )
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: options.port ?? 0, host }, () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      origin = `https://${host.includes(':') ? `[${host}]` : host}:${port}`
      resolve({
        url: origin,
        port,
        server: server as unknown as ServedHandler['server'],
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()))
            server.closeAllConnections()
          }),
      })
    })
  })
}
