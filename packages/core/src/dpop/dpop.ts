import { DpopError, OAuthError } from '../errors.js'
import type { DpopProofRequest } from './dpop-proof-request.js'

export type { DpopProofRequest } from './dpop-proof-request.js'

/** DPoP settings. @see RFC 9449 §2 */
export interface DpopOptions {
  /**
   * The key pair that signs proofs. Its public half goes in every proof's `jwk` header, so the
   * tokens the server binds to it (`cnf.jkt`) work only with it.
   * @default a new ES256 key pair per provider, its private half not extractable
   */
  key?: CryptoKeyPair | undefined
}

/**
 * DPoP for a provider, given as its `dpop` option: `createDpop()` from `@tokenwell/core/dpop`.
 * The proof signing code (and jose) is in that entry only.
 */
export interface Dpop {
  /** A new session (key and nonces) for one provider. */
  session(clock: () => number): DpopSession
  /**
   * Runs a token request to `url` (`attempt` makes a new proof each time) with `session`: keeps
   * the nonce every answer carries and, when the server demands one (`use_dpop_nonce`), retries
   * once with it; a second demand, or one without a `DPoP-Nonce`, is a `DpopError`.
   * @see RFC 9449 §8
   */
  tokenRequest<T extends { response: Response }>(
    session: DpopSession,
    url: URL,
    attempt: () => Promise<T>,
  ): Promise<T>
}

/**
 * A provider's DPoP key and nonces. Adapters use it for API requests:
 *
 * 1. For a token whose `tokenType` is `DPoP`, send `Authorization: DPoP <accessToken>` and
 *    `DPoP: await dpop.proof({ method, url, accessToken })` (a new proof per request and per retry).
 * 2. After every response, call `dpop.rememberNonce(url, response.headers)`.
 * 3. When `dpopNonceChallenge(response)` returns a nonce (a 401 with
 *    `WWW-Authenticate: DPoP error="use_dpop_nonce"`), replay the request once with a new proof:
 *    it picks up the remembered nonce. A second demand goes back to the caller as is (no loop).
 *
 * @see RFC 9449 §4, §7, §8, §9
 */
export interface DpopSession {
  /**
   * A DPoP proof JWT (`typ: dpop+jwt`, the public key as `jwk`) for one request, with `htm`,
   * `htu`, `iat`, a unique `jti`, `ath` when `accessToken` is given, and `nonce` when one is
   * given or remembered for the URL's origin. Rejects with `DpopError` if the key cannot sign.
   */
  proof(request: DpopProofRequest): Promise<string>
  /**
   * Keeps the `DPoP-Nonce` a server sent (pass its response headers, or the nonce itself) for
   * the URL's origin; later proofs to that origin carry it. Ignores headers without one.
   */
  rememberNonce(url: string | URL, nonce: Headers | string | null | undefined): void
  /** The nonce remembered for the URL's origin, if any. */
  nonceFor(url: string | URL): string | undefined
  /** The JWK SHA-256 thumbprint of the public key: what the server binds tokens to (`cnf.jkt`). @see RFC 7638 */
  thumbprint(): Promise<string>
}

/**
 * Builds one DPoP proof with `key` (no state: nonce bookkeeping is `DpopSession`'s).
 * @see RFC 9449 §4.2
 * @example
 * const proof = await createDpopProof(keyPair, { method: 'GET', url, accessToken, now: Date.now() })
 */
export async function createDpopProof(
  key: CryptoKeyPair,
  request: DpopProofRequest & { now: number },
): Promise<string> {
  // signing needs jose: loaded only when a proof is made
  const { signDpopProof } = await import('./dpop-proof.js')
  return signDpopProof(key, request, { DpopError })
}

/**
 * A DPoP session for one provider: `options.key`, or an ES256 key pair generated on first use
 * (WebCrypto; its private half is not extractable).
 */
export function createDpopSession(options: DpopOptions, clock: () => number): DpopSession {
  let keyPair: Promise<CryptoKeyPair> | undefined
  const key = () =>
    (keyPair ??= options.key
      ? Promise.resolve(options.key)
      : (crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
          'sign',
          'verify',
        ]) as Promise<CryptoKeyPair>))
  let thumbprint: Promise<string> | undefined
  const nonces = new Map<string, string>()
  const session: DpopSession = {
    async proof(request) {
      const nonce = request.nonce ?? session.nonceFor(request.url)
      return createDpopProof(await key(), { ...request, now: clock(), ...(nonce !== undefined && { nonce }) })
    },
    rememberNonce(url, value) {
      const nonce = typeof value === 'string' ? value : value?.get('dpop-nonce')
      // RFC 9449 §8.1: a nonce is an ASCII NQCHAR string
      if (nonce && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(nonce)) nonces.set(new URL(url).origin, nonce)
    },
    nonceFor(url) {
      return nonces.get(new URL(url).origin)
    },
    thumbprint() {
      thumbprint ??= (async () => {
        const { jwkThumbprint } = await import('./dpop-proof.js')
        return jwkThumbprint((await key()).publicKey)
      })()
      return thumbprint
    },
  }
  return Object.freeze(session)
}

/** `Dpop.tokenRequest`: one token request with the one nonce retry RFC 9449 §8 allows. */
export async function dpopTokenRequest<T extends { response: Response }>(
  session: DpopSession,
  url: URL,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let nonceRetries = 0; ; nonceRetries++) {
    try {
      const result = await attempt()
      session.rememberNonce(url, result.response.headers)
      return result
    } catch (error) {
      const response = (error as { response?: Response }).response
      if (response) session.rememberNonce(url, response.headers)
      if (!(error instanceof OAuthError) || error.error !== 'use_dpop_nonce') throw error
      // a retry with the server's nonce; a second demand is an error, never a loop
      const nonce = response?.headers.get('dpop-nonce')
      if (nonce && nonceRetries === 0) continue
      throw new DpopError(
        nonce
          ? 'token endpoint demanded a new DPoP nonce again after one retry with its nonce'
          : 'token endpoint demanded a DPoP nonce but sent no DPoP-Nonce header',
        { cause: error, ...(response && { response }) },
      )
    }
  }
}

/**
 * The nonce a resource server demands: for a 401 whose `WWW-Authenticate` has a `DPoP`
 * challenge with `error="use_dpop_nonce"`, the value of its `DPoP-Nonce` header; else `undefined`.
 * @see RFC 9449 §9
 */
export function dpopNonceChallenge(response: { status: number; headers: Headers }): string | undefined {
  if (response.status !== 401) return undefined
  const challenge = response.headers.get('www-authenticate') ?? ''
  if (!/(^|,)\s*DPoP\b[\s\S]*\berror\s*=\s*"?use_dpop_nonce"?/i.test(challenge)) return undefined
  return response.headers.get('dpop-nonce') ?? undefined
}
