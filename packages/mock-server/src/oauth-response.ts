/** The OAuth error codes the mock server answers with. @see RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8628 §3.5 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | (string & {})

/** Status of each error; RFC 6749 §5.2 says 400 for all but `invalid_client` (401). */
const STATUS: Readonly<Record<string, number>> = {
  invalid_client: 401,
  server_error: 500,
  temporarily_unavailable: 503,
}

/**
 * A request the server refuses with an OAuth error. Grant and client-auth functions throw it;
 * the token endpoint turns it into the RFC 6749 §5.2 response.
 */
export class OAuthFailure extends Error {
  readonly error: OAuthErrorCode
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  constructor(
    error: OAuthErrorCode,
    description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(description)
    this.name = 'OAuthFailure'
    this.error = error
    this.status = options.status ?? STATUS[error] ?? 400
    this.headers = options.headers ?? {}
  }
}

/** Headers every token-endpoint answer carries. @see RFC 6749 §5.1 */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

/** A JSON response that caches must not keep. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...NO_STORE, ...headers },
  })
}

/** The RFC 6749 §5.2 error response for a failure. */
export function errorResponse(failure: OAuthFailure): Response {
  return jsonResponse({ error: failure.error, error_description: failure.message }, failure.status, {
    ...failure.headers,
  })
}

/** Turns what a handler threw into a response: OAuth failures as §5.2 bodies, anything else as `server_error`. */
export function failureResponse(thrown: unknown): Response {
  if (thrown instanceof OAuthFailure) return errorResponse(thrown)
  return errorResponse(new OAuthFailure('server_error', 'the mock authorization server failed unexpectedly'))
}
