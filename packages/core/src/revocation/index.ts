export { type RevocationResult, type RevokeOptions, revocation } from '../endpoint/revocation.js'
