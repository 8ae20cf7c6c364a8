/**
 * A client authentication method that signs a JWT per token request: `privateKeyJwt()` or
 * `clientSecretJwt()` from `@tokenwell/core/jwt`, given as `clientAuth`. The signing code (and
 * jose) is in that entry only, so a provider without it bundles none of it. Holds its key in a
 * closure: nothing of it prints.
 * @see RFC 7523 §2.2, OpenID Connect Core 1.0 §9
 */
export interface ClientAssertionMethod {
  readonly method: 'private_key_jwt' | 'client_secret_jwt'
  /** The `aud` claim; `undefined`: the URL the request goes to (RFC 7523 §3 item 3). */
  readonly audience: string | undefined
  /** One signed assertion (a fresh `jti`: servers reject replays). */
  sign(claims: {
    clientId: string
    clientSecret: string | undefined
    audience: string
    now: number
  }): Promise<string>
}
