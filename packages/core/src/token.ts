import { inspectSymbol, REDACTED, withoutUndefined } from './redact.js'

/**
 * An access token and what came with it. Fields are readable; `util.inspect`, `console.log`
 * and `JSON.stringify` show it with every secret redacted.
 */
export interface Token {
  /** The access token, sent as `Authorization: <tokenType> <accessToken>`. */
  readonly accessToken: string
  /** `Bearer` or `DPoP` (normalised case). @see RFC 6749 §7.1 */
  readonly tokenType: string
  /** When the token expires, epoch ms. */
  readonly expiresAt?: number
  /** The granted scope, space-delimited (the requested scope when the server did not say). */
  readonly scope?: string
  readonly refreshToken?: string
  readonly idToken?: string
  /** The token endpoint's JSON response, as received. */
  readonly raw: Readonly<Record<string, unknown>>
}

/** The plain fields of a token, as stores persist them. Contains secrets: never log it. */
export interface TokenData {
  accessToken: string
  tokenType: string
  expiresAt?: number
  scope?: string
  refreshToken?: string
  idToken?: string
  raw: Record<string, unknown>
}

class RedactedToken implements Token {
  declare readonly accessToken: string
  declare readonly tokenType: string
  declare readonly expiresAt?: number
  declare readonly scope?: string
  declare readonly refreshToken?: string
  declare readonly idToken?: string
  declare readonly raw: Readonly<Record<string, unknown>>

  constructor(data: TokenData) {
    Object.assign(this, withoutUndefined(data))
    Object.freeze(this)
  }

  /** `JSON.stringify(token)` never carries a secret. */
  toJSON(): Record<string, unknown> {
    return {
      tokenType: this.tokenType,
      ...(this.expiresAt !== undefined && { expiresAt: this.expiresAt }),
      ...(this.scope !== undefined && { scope: this.scope }),
      accessToken: REDACTED,
      ...(this.refreshToken !== undefined && { refreshToken: REDACTED }),
      ...(this.idToken !== undefined && { idToken: REDACTED }),
    }
  }

  [inspectSymbol](): string {
    const expires =
      this.expiresAt === undefined ? '' : `, expiresAt: ${new Date(this.expiresAt).toISOString()}`
    const scope = this.scope === undefined ? '' : `, scope: '${this.scope}'`
    return `Token { tokenType: '${this.tokenType}'${expires}${scope}, accessToken: '${REDACTED}' }`
  }
}

/** Builds a `Token` (frozen, redacted in logs) from its fields. */
export function createToken(data: TokenData): Token {
  return new RedactedToken(data)
}

/** The plain fields of `token`, for a store to persist. */
export function tokenToData(token: Token): TokenData {
  return withoutUndefined({
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresAt: token.expiresAt,
    scope: token.scope,
    refreshToken: token.refreshToken,
    idToken: token.idToken,
    raw: { ...token.raw },
  }) as TokenData
}
