/** What the server remembers about an access token it issued (never the token string). */
export interface AccessTokenRecord {
  readonly jti: string
  readonly clientId: string
  readonly sub: string
  readonly scope: string | undefined
  readonly aud: string | string[]
  readonly username: string | undefined
  readonly issuedAt: number
  readonly expiresAt: number
  readonly seq: number
  revoked: boolean
}

/** A refresh token; `family` links every token rotated from the same original grant. */
export interface RefreshTokenRecord {
  readonly clientId: string
  readonly sub: string
  readonly scope: string | undefined
  readonly aud: string | string[]
  readonly username: string | undefined
  readonly family: string
  readonly issuedAt: number
  readonly expiresAt: number
  readonly seq: number
  /** Already exchanged under rotation; presenting it again is reuse. */
  spent: boolean
  revoked: boolean
}

export interface TokenRegistry {
  addAccessToken(record: Omit<AccessTokenRecord, 'seq' | 'revoked'>): AccessTokenRecord
  addRefreshToken(
    token: string,
    record: Omit<RefreshTokenRecord, 'seq' | 'revoked' | 'spent'>,
  ): RefreshTokenRecord
  accessToken(jti: string): AccessTokenRecord | undefined
  refreshToken(token: string): RefreshTokenRecord | undefined
  /** Whether the token was revoked one by one or by `revokeAll()`. */
  isRevoked(record: AccessTokenRecord | RefreshTokenRecord): boolean
  /** Revokes every refresh token of a family (after reuse, or RFC 7009 §2.1 revocation). */
  revokeFamily(family: string): void
  /** Every token issued so far is revoked; later ones are not. */
  revokeAll(): void
  /** Forgets tokens that expired before `now` (epoch ms), so a long-running demo does not grow without bound. */
  prune(now: number): void
}

/** The server's memory of issued tokens, with revocation by token, by family, and of everything so far. */
export function createTokenRegistry(): TokenRegistry {
  const access = new Map<string, AccessTokenRecord>()
  const refresh = new Map<string, RefreshTokenRecord>()
  let seq = 0
  // revokeAll() is O(1): every record numbered at or below this mark counts as revoked
  let revokedThrough = 0
  return {
    addAccessToken(record) {
      const full = { ...record, seq: ++seq, revoked: false }
      access.set(full.jti, full)
      return full
    },
    addRefreshToken(token, record) {
      const full = { ...record, seq: ++seq, revoked: false, spent: false }
      refresh.set(token, full)
      return full
    },
    accessToken: (jti) => access.get(jti),
    refreshToken: (token) => refresh.get(token),
    isRevoked: (record) => record.revoked || record.seq <= revokedThrough,
    revokeFamily(family) {
      for (const record of refresh.values()) if (record.family === family) record.revoked = true
    },
    revokeAll() {
      revokedThrough = seq
    },
    prune(now) {
      for (const [jti, record] of access) if (record.expiresAt <= now) access.delete(jti)
      for (const [token, record] of refresh) if (record.expiresAt <= now) refresh.delete(token)
    },
  }
}
