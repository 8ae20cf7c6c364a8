import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose'
import { OAuthFailure } from './oauth-response.js'
import { randomToken } from './state.js'

/** Proofs older or newer than this (s) are refused. @see RFC 9449 §11.1 */
const MAX_AGE = 60
/** Proof algorithms accepted (and advertised as `dpop_signing_alg_values_supported`). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA']

/** A server's DPoP memory: proof ids seen (replays fail) and the nonce it currently wants. */
export interface DpopState {
  readonly jtis: Map<string, number>
  nonce: string | undefined
}

const states = new WeakMap<object, DpopState>()

/** The DPoP memory of `owner` (a server's state), made on first use. */
export function dpopStateOf(owner: object, requireNonce: boolean): DpopState {
  let state = states.get(owner)
  if (state === undefined) {
    state = { jtis: new Map(), nonce: requireNonce ? randomToken() : undefined }
    states.set(owner, state)
  }
  return state
}

/** The `htu` a proof must name: the request URL without query and fragment. @see RFC 9449 §4.3 */
function htuOf(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(
    await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
  )
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * Verifies the request's `DPoP` proof and returns its key's thumbprint (`jkt`): `typ`, signature
 * with the embedded public `jwk`, `htm`, `htu`, fresh `iat`, unused `jti`, the server's nonce
 * when it wants one (else `use_dpop_nonce` with a `DPoP-Nonce` header), and `ath` when an access
 * token comes with it. `error` names the error code for a bad proof (`invalid_dpop_proof` at the
 * token endpoint, `invalid_token` at a resource server).
 * @see RFC 9449 §4.3, §8, §9
 */
export async function verifyDpopProof(
  request: Request,
  state: DpopState,
  now: number,
  options: { accessToken?: string; error?: string } = {},
): Promise<string> {
  const error = options.error ?? 'invalid_dpop_proof'
  const fail = (description: string) => new OAuthFailure(error, description)
  const proof = request.headers.get('dpop')
  if (!proof || proof.includes(',')) throw fail('exactly one DPoP proof is required')
  let payload: Record<string, unknown>
  let jwk: JWK
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS })
    payload = verified.payload
    jwk = verified.protectedHeader.jwk as JWK
  } catch (thrown) {
    throw fail(`DPoP proof rejected (${(thrown as { code?: string }).code ?? 'invalid'})`)
  }
  if ('d' in jwk) throw fail('DPoP proof carries a private key')
  if (payload.htm !== request.method) throw fail('DPoP proof htm does not match the request method')
  if (payload.htu !== htuOf(request.url)) throw fail('DPoP proof htu does not match the request URL')
  const iat = payload.iat
  if (typeof iat !== 'number' || Math.abs(iat - now / 1000) > MAX_AGE)
    throw fail('DPoP proof iat is not recent')
  if (typeof payload.jti !== 'string' || payload.jti === '') throw fail('DPoP proof has no jti')
  if (options.accessToken !== undefined && payload.ath !== (await sha256(options.accessToken))) {
    throw fail('DPoP proof ath does not match the access token')
  }
  if (state.nonce !== undefined && payload.nonce !== state.nonce) {
    throw new OAuthFailure('use_dpop_nonce', 'a DPoP nonce is required', {
      ...(options.error === 'invalid_token' && { status: 401 }),
      headers: { 'DPoP-Nonce': state.nonce },
    })
  }
  for (const [jti, until] of state.jtis) if (until < now) state.jtis.delete(jti)
  if (state.jtis.has(payload.jti)) throw fail('DPoP proof was already used (jti)')
  state.jtis.set(payload.jti, now + 2 * MAX_AGE * 1000)
  return calculateJwkThumbprint(jwk, 'sha256')
}
