import { ConfigError, OAuthError, TokenRequestError, TokenResponseError } from '../errors.js'
import { jwtExpiresAt } from '../provider/expiry.js'
import type { ClientAuthMethod, ResolvedTokenProviderOptions } from '../provider/options.js'
import { parseErrorWithoutBody, printable } from '../redact.js'
import { rememberForm, scrubFailure } from '../redaction/scrub.js'
import type { HeldSecrets } from '../redaction/secret-scrubber.js'
import { createToken, type Token } from '../token.js'
import { applyClientAuth } from './client-auth.js'

/** The token endpoint's JSON response. @see RFC 6749 §5.1 */
export interface TokenEndpointResponse {
  access_token: string
  token_type?: string
  expires_in?: number | string
  scope?: string
  refresh_token?: string
  id_token?: string
  [other: string]: unknown
}

/** What a token request needs beyond the options, worked out per request by `prepareTokenRequest`. */
export interface TokenRequestContext {
  /** The token endpoint (a discovered one). @default options.tokenEndpoint */
  tokenEndpoint?: URL
  /** The client authentication method (discovery may pick it). @default options.clientAuth */
  clientAuth?: ClientAuthMethod
  /** The signed JWT for `private_key_jwt` / `client_secret_jwt`. */
  clientAssertion?: string
  /** The DPoP proof for this request (`DPoP` header). @see RFC 9449 §5 */
  dpopProof?: string
}

/**
 * Builds the token request (no I/O): a POST of form parameters with client authentication.
 * Whatever needs I/O or signing (a discovered endpoint, a client assertion, a DPoP proof) comes
 * in `context`.
 * @see RFC 6749 §4.4.2, §3.3, RFC 8707 §2.1
 */
export function buildTokenRequest(
  options: ResolvedTokenProviderOptions,
  grantParams: Record<string, string>,
  context: TokenRequestContext = {},
): Request {
  const tokenEndpoint = context.tokenEndpoint ?? options.tokenEndpoint
  if (tokenEndpoint === undefined)
    throw new ConfigError('the token endpoint is not known yet (discover it from issuer first)')
  const body = new URLSearchParams(grantParams)
  if (options.scope !== undefined) body.set('scope', options.scope)
  if (options.audience !== undefined) body.set('audience', options.audience)
  for (const resource of options.resource) body.append('resource', resource)
  for (const [name, value] of Object.entries(options.extraParams)) body.set(name, value)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    accept: 'application/json',
  })
  const clientAuth = { ...options, clientAuth: context.clientAuth ?? options.clientAuth }
  applyClientAuth(clientAuth, headers, body, context.clientAssertion)
  if (context.dpopProof !== undefined) headers.set('dpop', context.dpopProof)
  const request = new Request(tokenEndpoint, { method: 'POST', headers, body, redirect: 'manual' })
  rememberForm(request, body)
  return request
}

export interface ParseTokenResponseOptions {
  /** Time the response arrived, epoch ms. @default Date.now() */
  now?: number
  /** Lifetime assumed without `expires_in` or a JWT `exp`, ms. @default 300_000 */
  defaultLifetime?: number
  /** Scope to report when the server does not say (RFC 6749 §5.1: then it granted what was asked). */
  requestedScope?: string
  /** Largest body read, bytes. @default 262_144 */
  maxBytes?: number
  /** Token types accepted. @default ['Bearer'] */
  tokenTypes?: readonly string[]
}

/**
 * Validates a token endpoint `Response` and returns the `Token`, or throws `OAuthError` for an
 * OAuth error body and `TokenResponseError` for anything else that is not a token response.
 * @see RFC 6749 §5.1, §5.2
 */
export async function parseTokenResponse(
  response: Response,
  options: ParseTokenResponseOptions = {},
): Promise<Token> {
  const fail = responseError(response)
  const body = await readJsonObject(response, options.maxBytes ?? 262_144, 'token', 'access_token')
  if (typeof body.access_token !== 'string' || body.access_token === '') throw fail('has no access_token')
  // rule 6: a token that cannot go into an Authorization header is refused now, not cached
  for (const field of ['access_token', 'token_type'] as const) {
    const value = body[field]
    if (typeof value === 'string' && !HEADER_TOKEN.test(value)) {
      throw fail(
        `has ${field === 'access_token' ? 'an' : 'a'} ${field} that cannot be sent in a header (whitespace, control or non-ASCII characters)`,
      )
    }
  }
  const tokenType = normaliseTokenType(body.token_type, options.tokenTypes ?? ['Bearer'], fail)
  const now = options.now ?? Date.now()
  const expiresAt = expiryOf(body, now, options.defaultLifetime ?? 300_000, response, fail)
  const optionalString = (name: string) => {
    const value = body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'string') throw fail(`has a non-string ${name}`)
    return value
  }
  const scope = optionalString('scope') ?? options.requestedScope
  const refreshToken = optionalString('refresh_token')
  const idToken = optionalString('id_token')
  return createToken({
    accessToken: body.access_token,
    tokenType,
    expiresAt,
    ...(scope !== undefined && { scope }),
    ...(refreshToken !== undefined && { refreshToken }),
    ...(idToken !== undefined && { idToken }),
    raw: body,
  })
}

/**
 * What an access token or token type may hold to be sent as `<type> <token>` in a header:
 * visible ASCII only, no whitespace, no control character (RFC 9110 §5.5 field-value, RFC 6750
 * §2.1 b64token, which is stricter; RFC 9449's DPoP tokens use the same header).
 */
const HEADER_TOKEN = /^[\x21-\x7e]+$/

/** A `TokenResponseError` about `response`: `fail('has no access_token')` → "token response has no access_token". */
function responseError(response: Response, what = 'token response') {
  return (message: string, cause?: unknown) =>
    new TokenResponseError(`${what} ${message}`, {
      status: response.status,
      response,
      ...(cause !== undefined && { cause }),
    })
}

function normaliseTokenType(
  value: unknown,
  accepted: readonly string[],
  fail: ReturnType<typeof responseError>,
): string {
  // RFC 6749 §5.1 requires token_type, but enough servers omit it that Bearer is assumed
  if (value === undefined) return 'Bearer'
  const match =
    typeof value === 'string' && accepted.find((type) => type.toLowerCase() === value.toLowerCase())
  if (!match) {
    // a hostile object (e.g. a toString that is not a function) must not throw a TypeError here
    const shown = typeof value === 'string' ? value : `(${value === null ? 'null' : typeof value})`
    throw fail(`has unsupported token_type "${printable(shown)}"`)
  }
  return match
}

function expiryOf(
  body: Record<string, unknown>,
  now: number,
  defaultLifetime: number,
  response: Response,
  fail: ReturnType<typeof responseError>,
) {
  const raw = body.expires_in
  if (raw !== undefined && raw !== null) {
    // anything but a number of seconds is broken and must not become NaN or "never"
    const lifetime = seconds(raw)
    if (lifetime === undefined)
      throw fail('has an invalid expires_in (must be a non-negative number of seconds)')
    return now + Math.min(lifetime * 1000, MAX_LIFETIME)
  }
  const exp = jwtExpiresAt(body.access_token as string)
  if (exp === undefined) return now + defaultLifetime
  // `exp` is on the server's clock: shift it by how far ours is off, judged by its Date header
  const serverNow = Date.parse(response.headers.get('date') ?? '')
  const expiresAt = Number.isFinite(serverNow) ? exp + (now - serverNow) : exp
  return Math.min(expiresAt, now + MAX_LIFETIME)
}

/** A non-negative number of seconds (some servers send a numeric string), or `undefined`. */
export function seconds(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : Number.NaN
  return Number.isFinite(number) && number >= 0 ? number : undefined
}

/**
 * Longest lifetime believed, ms (a year): an absurd `expires_in` such as 1e305 would otherwise
 * overflow to Infinity, i.e. "never expires", and no store or timer could hold it.
 */
const MAX_LIFETIME = 365 * 24 * 3600 * 1000

/**
 * The JSON object a `what` endpoint (`token`, `device authorization`) answered with. An OAuth
 * error body (`error`, on a 4xx/5xx, or on any status without `successField`) is `OAuthError`;
 * anything else that is not a 2xx JSON object is `TokenResponseError`.
 * @see RFC 6749 §5.2, RFC 8628 §3.2
 */
export async function readJsonObject(
  response: Response,
  maxBytes: number,
  what: string,
  successField?: string,
): Promise<Record<string, unknown>> {
  const { status } = response
  const fail = responseError(response, `${what} endpoint returned`)
  const text = await readBody(response, maxBytes, what)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    const type = response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type'
    throw fail(`${type}, not JSON (HTTP ${status})`, parseErrorWithoutBody(error))
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw fail(`JSON that is not an object (HTTP ${status})`)
  const body = json as Record<string, unknown>
  const failed = status >= 400 || (successField !== undefined && body[successField] === undefined)
  if (typeof body.error === 'string' && failed) {
    throw new OAuthError(printable(body.error), status, {
      ...(typeof body.error_description === 'string' && { errorDescription: body.error_description }),
      ...(typeof body.error_uri === 'string' && { errorUri: body.error_uri }),
      response,
      endpoint: `${what} endpoint`,
    })
  }
  if (status < 200 || status > 299) throw fail(`HTTP ${status} without an OAuth error`)
  return body
}

/** Reads at most `maxBytes` of the body; a larger body is an error, not a memory problem. */
export async function readBody(response: Response, maxBytes: number, what = 'token'): Promise<string> {
  const tooLarge = () => responseError(response, what)(`response body is larger than ${maxBytes} bytes`)
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) throw tooLarge()
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

/**
 * Sends one token request and parses the answer, within `timeout` ms (connect, headers and body).
 * Network failures and timeouts become `TokenRequestError`.
 */
export async function requestToken(
  options: ResolvedTokenProviderOptions,
  request: Request,
): Promise<{ token: Token; response: Response }> {
  return sendRequest(options, request, 'token', async (response) => {
    const token = await parseTokenResponse(response, {
      now: options.clock(),
      defaultLifetime: options.defaultLifetime,
      ...(options.scope !== undefined && { requestedScope: options.scope }),
      maxBytes: options.maxResponseBytes,
      // RFC 9449 §5: a DPoP-bound token comes with token_type DPoP
      tokenTypes: options.dpop ? ['Bearer', 'DPoP'] : ['Bearer'],
    })
    return { token, response }
  })
}

/**
 * Sends `request` to one of the authorization server's endpoints (`what`: `token`, `device
 * authorization`) and hands the response to `read`, all within `timeout` ms (connect, headers
 * and body). A redirect is refused: following it would re-send the client's credentials
 * elsewhere. Network failures and timeouts become `TokenRequestError`. Every error is scrubbed
 * of the request's secrets and those the provider holds (`clientSecret`, `grant`), cause included.
 */
export async function sendRequest<T>(
  options: Pick<ResolvedTokenProviderOptions, 'fetch' | 'timeout'> & HeldSecrets,
  request: Request,
  what: string,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(options.timeout)
  const failed = (cause: unknown, how = `timed out after ${options.timeout} ms`) =>
    new TokenRequestError(`${what} request ${how}`, { cause })
  const timedOut = new Promise<never>((_, reject) => {
    timeout.addEventListener('abort', () => reject(failed(timeout.reason)))
  })
  timedOut.catch(() => {})
  const attempt = (async () => {
    let response: Response
    try {
      response = await options.fetch(new Request(request, { signal: timeout }))
    } catch (cause) {
      throw timeout.aborted ? failed(cause) : failed(cause, 'failed: network error')
    }
    if (response.status >= 300 && response.status < 400) {
      // an endpoint that redirects would have us re-send credentials elsewhere: refuse
      throw responseError(
        response,
        `${what} endpoint`,
      )(`redirected (HTTP ${response.status}); configure the final URL`)
    }
    return read(response)
  })().catch(async (error: unknown) => {
    // what was sent is what a server (or a fetch) may echo: every failure is scrubbed of it (rule 5)
    throw await scrubFailure(error, request, options)
  })
  return Promise.race([attempt, timedOut])
}
