import type * as Errors from '../errors.js'
import type { ClientAuthMethod, FetchLike, ResolvedTokenProviderOptions } from '../provider/options.js'
import type { AuthorizationServerMetadata, DiscoveryOptions } from './metadata-types.js'

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
 * The metadata document for `issuer` (already checked as an http(s) URL): RFC 8414's, else
 * OpenID Connect's, and only if it names `issuer` as its own. Its `token_endpoint` is the
 * caller's to check. The part of `discoverAuthorizationServer()` that is loaded on first use;
 * `errors` are core's error classes (a module loaded through `import()` imports none of core:
 * see test/lazy-modules.test.ts).
 */
export async function fetchMetadata(
  issuer: string,
  options: DiscoveryOptions,
  errors: Pick<typeof Errors, 'DiscoveryError'>,
): Promise<Record<string, unknown>> {
  const { DiscoveryError } = errors
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request))
  let firstError: unknown
  for (const url of metadataUrls(issuer)) {
    let document: Record<string, unknown>
    try {
      document = await fetchDocument(url, { ...options, fetch }, errors)
    } catch (error) {
      firstError ??= error
      continue
    }
    if (typeof document.issuer !== 'string' || !sameIssuer(document.issuer, issuer)) {
      throw new DiscoveryError(
        `metadata at ${url.href} names another issuer than the one configured (${issuer}); not using it (RFC 8414 §3.3)`,
      )
    }
    return document
  }
  if (firstError instanceof DiscoveryError) throw firstError
  throw new DiscoveryError(`no authorization server metadata found for ${issuer}`, { cause: firstError })
}

/**
 * GETs one metadata document (no redirect followed, at most 256 kB) and returns its JSON object;
 * anything else is a `DiscoveryError`. Also reads RFC 9728 protected resource metadata.
 */
export async function fetchDocument(
  url: URL,
  options: DiscoveryOptions,
  errors: Pick<typeof Errors, 'DiscoveryError'>,
): Promise<Record<string, unknown>> {
  const { DiscoveryError } = errors
  const fetch: FetchLike = options.fetch ?? ((request: Request) => globalThis.fetch(request))
  const { signal } = options
  const timeoutSignal = AbortSignal.timeout(options.timeout ?? 10_000)
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
  } catch {
    // no cause: JSON.parse's message would quote the body
    throw new DiscoveryError(`metadata at ${url.href} is not JSON`, { status, response })
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DiscoveryError(`metadata at ${url.href} is not a JSON object`, { status, response })
  }
  return json as Record<string, unknown>
}

// client_secret_jwt is no alternative: it needs clientSecretJwt() (@tokenwell/core/jwt), which is explicit
const SECRET_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post']

/**
 * The client authentication method to use with a server that advertises
 * `token_endpoint_auth_methods_supported`: an explicit choice is kept (with a warning when not
 * advertised); a default secret method gives way to another secret method the server lists.
 * @see RFC 8414 §2 (the list defaults to client_secret_basic)
 */
export function chooseClientAuth(
  options: Pick<ResolvedTokenProviderOptions, 'clientAuth' | 'clientAuthExplicit' | 'logger'>,
  metadata: AuthorizationServerMetadata | undefined,
): ClientAuthMethod {
  const supported = metadata?.token_endpoint_auth_methods_supported
  if (!Array.isArray(supported) || supported.includes(options.clientAuth)) return options.clientAuth
  if (!options.clientAuthExplicit && SECRET_METHODS.includes(options.clientAuth)) {
    const alternative = SECRET_METHODS.find((method) => supported.includes(method))
    if (alternative) return alternative
  }
  options.logger?.warn?.(
    'tokenwell: the authorization server does not advertise the configured client authentication',
    {
      clientAuth: options.clientAuth,
      supported: supported.filter((method) => typeof method === 'string'),
    },
  )
  return options.clientAuth
}
