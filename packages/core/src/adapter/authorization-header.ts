import type { Token } from '../token.js'

/** The `Authorization` header value for `token`: `<tokenType> <accessToken>`. @see RFC 6750 §2.1 */
export function authorizationHeader(token: Pick<Token, 'tokenType' | 'accessToken'>): string {
  return `${token.tokenType} ${token.accessToken}`
}
