import { ConfigError } from '../errors.js'
import type { ResolvedTokenProviderOptions } from '../provider/options.js'

/** `client_assertion_type` of a JWT client assertion. @see RFC 7523 §2.2 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** `application/x-www-form-urlencoded` encoding of one value (space → `+`). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/**
 * HTTP Basic credentials for the token endpoint. The id and secret are form-urlencoded before
 * base64, so a secret with `:` or non-ASCII characters survives.
 * @see RFC 6749 §2.3.1
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`
  // btoa needs a binary string; the form encoding above left only ASCII
  return `Basic ${btoa(pair)}`
}

/**
 * Adds client authentication to the token request's headers and body. `clientAssertion` is the
 * signed JWT for `private_key_jwt` / `client_secret_jwt` (built per request, see `prepareTokenRequest`).
 * With `tls_client_auth` / `self_signed_tls_client_auth` only `client_id` is added: the `fetch`
 * presents the certificate (`createNodeFetch({ cert, key })` in @tokenwell/node).
 * @see RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2
 */
export function applyClientAuth(
  options: Pick<ResolvedTokenProviderOptions, 'clientAuth' | 'clientId' | 'clientSecret'>,
  headers: Headers,
  body: URLSearchParams,
  clientAssertion?: string,
): void {
  switch (options.clientAuth) {
    case 'private_key_jwt':
    case 'client_secret_jwt':
      if (clientAssertion === undefined)
        throw new ConfigError(`clientAuth "${options.clientAuth}" needs a signed client assertion`)
      body.set('client_id', options.clientId)
      body.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE)
      body.set('client_assertion', clientAssertion)
      break
    case 'client_secret_basic':
      headers.set('authorization', basicCredentials(options.clientId, options.clientSecret ?? ''))
      break
    case 'client_secret_post':
      body.set('client_id', options.clientId)
      body.set('client_secret', options.clientSecret ?? '')
      break
    case 'none':
    // RFC 8705 §2: the TLS client certificate authenticates; client_id names the client, no secret
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      // RFC 6749 §3.2.1: a public client identifies itself with client_id
      body.set('client_id', options.clientId)
      break
  }
}
