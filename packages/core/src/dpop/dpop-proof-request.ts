/** What a DPoP proof is for: one HTTP request. */
export interface DpopProofRequest {
  /** The request's method (`htm`), any case. */
  method: string
  /** The request's URL; the proof's `htu` is it without query and fragment. */
  url: string | URL
  /** The access token the request carries, for the `ath` claim (resource requests only). */
  accessToken?: string
  /**
   * The server's nonce (`nonce` claim). @default the last `DPoP-Nonce` remembered for the URL's origin
   */
  nonce?: string
}
