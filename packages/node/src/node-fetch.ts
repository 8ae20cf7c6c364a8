import { rootCertificates } from 'node:tls'
import { ConfigError } from '@tokenwell/core'
import { Agent, fetch as undiciFetch } from 'undici'

export interface NodeFetchOptions {
  /**
   * Extra CA certificates (PEM), trusted in addition to Node's bundled roots: a private CA or a
   * gateway's self-signed certificate. A string may hold several certificates.
   */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined
  /**
   * Skip TLS certificate verification (any certificate, any host name). For a lab only: it
   * makes every token and secret readable to whoever sits in the middle. Warns when created.
   * @default false
   */
  insecure?: boolean | undefined
  /**
   * The client certificate (PEM, with its chain if any) presented in every TLS handshake, for
   * mutual TLS: `tls_client_auth` / `self_signed_tls_client_auth` client authentication and
   * certificate-bound tokens. Give `key` with it.
   * @see RFC 8705
   */
  cert?: string | Uint8Array | undefined
  /** The private key of `cert` (PEM). Never shown in errors. */
  key?: string | Uint8Array | undefined
  /** The passphrase of an encrypted `key`. */
  passphrase?: string | undefined
  /** Receives the insecure-mode warning. @default process.emitWarning */
  onWarning?: ((message: string) => void) | undefined
  /** Time limit to open a connection (TCP and TLS), ms. @default 10_000 */
  connectTimeout?: number | undefined
}

/** A WHATWG `fetch` bound to its own connection pool; `close()` ends the pool's connections. */
export interface NodeFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

/** Statuses whose responses have no body (a Response with one would throw). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** Warning text of insecure mode (also what the CLI prints for `--insecure`). */
export const INSECURE_WARNING =
  'tokenwell: TLS certificate verification is disabled (insecure): tokens and secrets can be read by anyone in the middle'

/**
 * A `fetch` for Node with TLS options, built on an undici 7 `Agent`: pass it as the token
 * provider's `fetch` (and to the fetch adapter) to reach an authorization server with a
 * private CA (`ca`), or, in a lab, one whose certificate cannot be checked (`insecure`). Core
 * stays runtime-neutral: it only ever sees a `fetch`. With `cert` and `key`, every connection
 * presents that client certificate (mutual TLS, RFC 8705).
 * @example
 * import { readFileSync } from 'node:fs'
 * const fetch = createNodeFetch({ ca: readFileSync('corp-ca.pem', 'utf8') })
 * const provider = createTokenProvider({ tokenEndpoint, clientId, clientSecret, fetch })
 */
export function createNodeFetch(options: NodeFetchOptions = {}): NodeFetch {
  const { ca, insecure = false, onWarning, connectTimeout = 10_000 } = options
  const clientCertificate = validateClientCertificate(options)
  if (typeof insecure !== 'boolean') throw new ConfigError('insecure must be a boolean')
  if (!Number.isFinite(connectTimeout) || connectTimeout <= 0)
    throw new ConfigError('connectTimeout must be a number of milliseconds > 0')
  const extra = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca]
  for (const cert of extra) {
    const text = typeof cert === 'string' ? cert : new TextDecoder().decode(cert as Uint8Array)
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw new ConfigError('ca must be PEM certificates (-----BEGIN CERTIFICATE-----)')
  }
  if (insecure)
    (onWarning ?? ((message: string) => process.emitWarning(message, { code: 'TOKENWELL_INSECURE_TLS' })))(
      INSECURE_WARNING,
    )
  const agent = new Agent({
    connect: {
      timeout: connectTimeout,
      // `ca` replaces Node's trust store: keep the bundled roots and add the extra ones
      ...(extra.length > 0 && {
        ca: [...rootCertificates, ...extra.map((c) => (typeof c === 'string' ? c : Buffer.from(c)))],
      }),
      ...(insecure && { rejectUnauthorized: false }),
      ...clientCertificate,
    },
  })
  const nodeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // undici's fetch takes its own Request class only: hand it plain parts of the global one
    const request = new Request(input, init)
    const body = request.body ? await request.arrayBuffer() : undefined
    const response = await undiciFetch(request.url, {
      method: request.method,
      headers: [...request.headers],
      ...(body !== undefined && { body }),
      redirect: request.redirect,
      signal: request.signal,
      dispatcher: agent,
    })
    const result = new Response(
      NULL_BODY.has(response.status) ? null : (response.body as ReadableStream | null),
      {
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers],
      },
    )
    Object.defineProperty(result, 'url', { value: response.url })
    return result
  }
  return Object.assign(nodeFetch, { close: () => agent.close() })
}

const text = (value: string | Uint8Array) =>
  typeof value === 'string' ? value : new TextDecoder().decode(value)

/** `cert`, `key` and `passphrase` for undici's connect options, checked; messages never quote the key. */
function validateClientCertificate(
  options: NodeFetchOptions,
): { cert: string; key: string; passphrase?: string } | undefined {
  const { cert, key, passphrase } = options
  if (cert === undefined && key === undefined) {
    if (passphrase !== undefined) throw new ConfigError('passphrase is used only with cert and key')
    return undefined
  }
  if (cert === undefined || key === undefined)
    throw new ConfigError('cert and key go together: give both for a TLS client certificate')
  if (!text(cert).includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError('cert must be a PEM certificate (-----BEGIN CERTIFICATE-----)')
  if (!/-----BEGIN (?:[A-Z]+ )?(?:ENCRYPTED )?PRIVATE KEY-----/.test(text(key)))
    throw new ConfigError('key must be a PEM private key (-----BEGIN … PRIVATE KEY-----)')
  if (passphrase !== undefined && typeof passphrase !== 'string')
    throw new ConfigError('passphrase must be a string')
  return { cert: text(cert), key: text(key), ...(passphrase !== undefined && { passphrase }) }
}
