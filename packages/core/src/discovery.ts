import { ConfigError, DiscoveryError } from './errors.js'
import { type FetchLike, parseEndpoint } from './options.js'

/** Authorization server metadata, as published. Only `issuer` and `token_endpoint` are required here. @see RFC 8414 §2 */
export interface AuthorizationServerMetadata {
  issuer: string
  token_endpoint: string
  authorization_endpoint?: string
  device_authorization_endpoint?: string
  jwks_uri?: string
  token_endpoint_auth_methods_supported?: string[]
  token_endpoint_auth_signing_alg_values_supported?: string[]
  code_challenge_methods_supported?: string[]
  grant_types_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  [other: string]: unknown
}

export interface DiscoveryOptions {
  /** @default globalThis.fetch */
  fetch?: FetchLike
  /** Time limit of each metadata request, ms. @default 10_000 */
  timeout?: number
  /** Accept plain-http endpoints off loopback. @default false */
  allowInsecureHttp?: boolean
  signal?: AbortSignal
}

/** Largest metadata document read, bytes. */
const MAX_METADATA_BYTES = 262_144

/**
 * The two places metadata may live: RFC 8414's well-known URI (inserted before the issuer's
 * path) and OpenID Connect's (appended to it).
 * @see RFC 8414 §3.1, OpenID Connect Discovery 1.0 §4
 */
export function metadataUrls(issuer: string | URL): URL[] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
    new URL(`${path}/.well-known/openid-configuration`, url.origin),
  ]
}

/** Issuer identifiers are compared as strings; only a trailing `/` is forgiven (Auth0 publishes one, users omit it). */
function sameIssuer(a: string, b: string): boolean {
  return a === b || a.replace(/\/$/, '') === b.replace(/\/$/, '')
}

/**
 * Reads the authorization server's metadata for `issuer`: RFC 8414 first, then OpenID Connect
 * discovery. Throws `DiscoveryError` when neither answers with a JSON document, when the
 * document's `issuer` is not `issuer` (it could be an impostor's: nothing in it is used), or
 * when its `token_endpoint` is missing or not an acceptable URL.
 * @see RFC 8414 §3, §3.3
 * @example
 * const metadata = await discoverAuthorizationServer('https://login.example.com/realms/demo')
 * metadata.token_endpoint
 */
export async function discoverAuthorizationServer(
  issuer: string | URL,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const expected = typeof issuer === 'string' ? issuer.trim() : issuer.href
  const allowInsecureHttp = options.allowInsecureHttp === true
  try {
    parseEndpoint('issuer', expected, allowInsecureHttp)
  } catch (error) {
    if (error instanceof ConfigError) throw new DiscoveryError(error.message)
    throw error
  }
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request))
  let firstError: unknown
  for (const url of metadataUrls(expected)) {
    let document: Record<string, unknown>
    try {
      document = await fetchDocument(fetch, url, options.timeout ?? 10_000, options.signal)
    } catch (error) {
      firstError ??= error
      continue
    }
    if (typeof document.issuer !== 'string' || !sameIssuer(document.issuer, expected)) {
      throw new DiscoveryError(
        `metadata at ${url.href} names another issuer than the one configured (${expected}); not using it (RFC 8414 §3.3)`,
      )
    }
    try {
      parseEndpoint('token_endpoint', document.token_endpoint, allowInsecureHttp)
    } catch (cause) {
      throw new DiscoveryError(`metadata of ${expected} has no usable token_endpoint`, { cause })
    }
    return document as AuthorizationServerMetadata
  }
  if (firstError instanceof DiscoveryError) throw firstError
  throw new DiscoveryError(`no authorization server metadata found for ${expected}`, { cause: firstError })
}

async function fetchDocument(
  fetch: FetchLike,
  url: URL,
  timeout: number,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const timeoutSignal = AbortSignal.timeout(timeout)
  const request = new Request(url, {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: signal ? AbortSignal.any([signal, timeoutSignal]) : timeoutSignal,
  })
  let response: Response
  try {
    response = await fetch(request)
  } catch (cause) {
    if (signal?.aborted) throw signal.reason
    throw new DiscoveryError(
      `metadata request to ${url.href} failed: ${timeoutSignal.aborted ? 'timeout' : 'network error'}`,
      {
        cause,
      },
    )
  }
  const { status } = response
  if (status !== 200) {
    void response.body?.cancel().catch(() => {})
    throw new DiscoveryError(`metadata request to ${url.href} returned HTTP ${status}`, { status, response })
  }
  if (Number(response.headers.get('content-length')) > MAX_METADATA_BYTES) {
    void response.body?.cancel().catch(() => {})
    throw new DiscoveryError(`metadata at ${url.href} is too large`, { status, response })
  }
  let json: unknown
  try {
    json = JSON.parse(await response.text())
  } catch (cause) {
    throw new DiscoveryError(`metadata at ${url.href} is not JSON`, { status, response, cause })
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DiscoveryError(`metadata at ${url.href} is not a JSON object`, { status, response })
  }
  return json as Record<string, unknown>
}
