import { AuthorizationError, ConfigError } from '../errors.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type { Discovery, FetchLike } from '../provider/options.js'
import { printable } from '../redact.js'

/** A PKCE code verifier and its S256 challenge. @see RFC 7636 §4.1, §4.2 */
export interface PkcePair {
  /** Keep it secret until the token request (`grant.codeVerifier`). */
  codeVerifier: string
  /** Goes in the authorization URL. */
  codeChallenge: string
  codeChallengeMethod: 'S256'
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * A random URL-safe string with `bytes` bytes of entropy (crypto.getRandomValues), for `state`,
 * `nonce` or a code verifier.
 * @default 32 bytes (43 characters)
 */
export function randomUrlSafe(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/**
 * A new PKCE pair: a 43-character verifier from 32 random bytes and its S256 challenge
 * (WebCrypto, so it runs in browsers, Deno, Bun and edge runtimes too).
 * @see RFC 7636 §4.1, §4.2
 * @example
 * const { codeVerifier, codeChallenge } = await createPkcePair()
 */
export async function createPkcePair(): Promise<PkcePair> {
  const codeVerifier = randomUrlSafe(32)
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)), codeChallengeMethod: 'S256' }
}

export interface AuthorizationUrlOptions {
  /** The authorization endpoint. Give this or `issuer`. */
  authorizationEndpoint?: string | URL
  /** The issuer, whose metadata names the authorization endpoint (one discovery request; needs `discovery`). */
  issuer?: string | URL
  /** With `issuer`: `discovery` from `@tokenwell/core/discovery`. */
  discovery?: Discovery
  clientId: string
  /** Where the browser comes back; for a CLI, the loopback URI of `startLoopbackRedirect()` (RFC 8252 §7.3). */
  redirectUri: string
  scope?: string | readonly string[]
  /** Random and unguessable; check it on the way back with `parseAuthorizationResponse`. @see RFC 6749 §10.12 */
  state: string
  /** From `createPkcePair()`. */
  codeChallenge: string
  /** @default 'S256' */
  codeChallengeMethod?: 'S256' | 'plain'
  /** Resource indicators. @see RFC 8707 */
  resource?: string | readonly string[]
  /** More query parameters (`prompt`, `login_hint`, `nonce`, `audience`…). */
  extraParams?: Readonly<Record<string, string>>
  /** For discovery. @default globalThis.fetch */
  fetch?: FetchLike
  /** Plain http off loopback. @default false */
  allowInsecureHttp?: boolean
}

/**
 * The URL to send the user's browser to: `response_type=code` with `client_id`,
 * `redirect_uri`, `scope`, `state` and the PKCE challenge. With `issuer`, the authorization
 * endpoint comes from the server's metadata.
 * @see RFC 6749 §4.1.1, RFC 7636 §4.3
 * @example
 * const pkce = await createPkcePair()
 * const state = randomUrlSafe()
 * const url = await buildAuthorizationUrl({ issuer, clientId: 'cli', redirectUri, scope: 'openid offline_access',
 *   state, codeChallenge: pkce.codeChallenge })
 */
export async function buildAuthorizationUrl(options: AuthorizationUrlOptions): Promise<URL> {
  const insecure = options.allowInsecureHttp === true
  if ((options.authorizationEndpoint === undefined) === (options.issuer === undefined)) {
    throw new ConfigError('give exactly one of authorizationEndpoint or issuer')
  }
  for (const name of ['clientId', 'redirectUri', 'state', 'codeChallenge'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '')
      throw new ConfigError(`${name} must be a non-empty string`)
  }
  if (!URL.canParse(options.redirectUri)) throw new ConfigError('redirectUri must be an absolute URI')
  let endpoint: string | URL | undefined = options.authorizationEndpoint
  if (options.issuer !== undefined) {
    if (typeof options.discovery?.metadata !== 'function')
      throw new ConfigError('issuer needs discovery from @tokenwell/core/discovery')
    const metadata = await options.discovery.metadata(options.issuer, {
      ...(options.fetch && { fetch: options.fetch }),
      allowInsecureHttp: insecure,
    })
    endpoint = metadata.authorization_endpoint
    if (typeof endpoint !== 'string') {
      throw new ConfigError('the issuer metadata has no authorization_endpoint; pass authorizationEndpoint')
    }
  }
  const url = new URL(parseEndpoint('authorizationEndpoint', endpoint, insecure))
  const scope = typeof options.scope === 'string' ? options.scope : options.scope?.join(' ')
  const params: [string, string][] = [
    ['response_type', 'code'],
    ['client_id', options.clientId],
    ['redirect_uri', options.redirectUri],
    ...(scope ? ([['scope', scope]] as [string, string][]) : []),
    ['state', options.state],
    ['code_challenge', options.codeChallenge],
    ['code_challenge_method', options.codeChallengeMethod ?? 'S256'],
  ]
  const resources = typeof options.resource === 'string' ? [options.resource] : (options.resource ?? [])
  for (const resource of resources) params.push(['resource', resource])
  const reserved = new Set(params.map(([name]) => name))
  for (const [name, value] of Object.entries(options.extraParams ?? {})) {
    if (reserved.has(name))
      throw new ConfigError(`extraParams.${name} is set by tokenwell; use the matching option`)
    params.push([name, value])
  }
  for (const [name, value] of params) url.searchParams.append(name, value)
  return url
}

export interface AuthorizationResponse {
  code: string
  state: string
  /** The `iss` parameter, when the server sent one (RFC 9207). */
  iss?: string
}

/**
 * Validates the redirect back from the authorization server and returns the code. Throws
 * `AuthorizationError` when the server sent an `error` (e.g. `access_denied`), when `state` is
 * not the one sent (a forged or crossed response), when an `iss` it sent is not `issuer`
 * (a mix-up attack), or when there is no code.
 * @see RFC 6749 §4.1.2, §10.12, RFC 9207 §2.4
 * @example
 * const { code } = parseAuthorizationResponse(callbackUrl, { state })
 */
export function parseAuthorizationResponse(
  response: string | URL | URLSearchParams,
  expected: { state: string; issuer?: string },
): AuthorizationResponse {
  const params =
    response instanceof URLSearchParams ? response : new URL(response, 'http://localhost').searchParams
  const state = params.get('state')
  // the state is checked before anything else: an error response with a foreign state is not ours either
  if (typeof expected.state !== 'string' || expected.state === '' || state !== expected.state) {
    throw new AuthorizationError('authorization response state does not match the request (RFC 6749 §10.12)')
  }
  const iss = params.get('iss')
  if (
    iss !== null &&
    expected.issuer !== undefined &&
    iss.replace(/\/$/, '') !== expected.issuer.replace(/\/$/, '')
  ) {
    throw new AuthorizationError('authorization response comes from another issuer (RFC 9207)')
  }
  const error = params.get('error')
  if (error !== null) {
    const description = params.get('error_description')
    throw new AuthorizationError(`authorization server returned "${printable(error)}"`, {
      error,
      ...(description !== null && { errorDescription: description }),
    })
  }
  const code = params.get('code')
  if (!code) throw new AuthorizationError('authorization response has no code')
  return { code, state, ...(iss !== null && { iss }) }
}
