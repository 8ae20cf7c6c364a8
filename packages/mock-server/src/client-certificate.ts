/**
 * The TLS client certificate a request came with, as the TLS listener saw it (`serveFetchHandlerTls`).
 * @see RFC 8705 §2, §3
 */
export interface ClientCertificate {
  /** base64url SHA-256 of the certificate's DER: the `x5t#S256` a bound token carries. @see RFC 8705 §3.1 */
  readonly thumbprint: string
  /** The subject DN, RFC 4514 style with `,` between the parts (`CN=svc,O=Example`). */
  readonly subject: string
  /** Whether the chain verified against the listener's trusted CAs (`tls_client_auth` needs it). */
  readonly authorized: boolean
}

/** Certificates by request: set by the TLS listener only, so no header can forge one. */
const certificates = new WeakMap<Request, ClientCertificate>()

/** Records the certificate `request` arrived with (the TLS listener calls this). */
export function attachClientCertificate(request: Request, certificate: ClientCertificate): void {
  certificates.set(request, certificate)
}

/** The TLS client certificate `request` arrived with, or `undefined` (plain HTTP, msw, no certificate). */
export function clientCertificateOf(request: Request): ClientCertificate | undefined {
  return certificates.get(request)
}
