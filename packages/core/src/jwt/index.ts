export type { ClientAssertionMethod } from '../endpoint/client-assertion-method.js'
export { clientSecretJwt, type PrivateKeyJwtOptions, privateKeyJwt } from './client-assertion.js'
export type { ClientAssertionOptions, PrivateKeyInput, SigningAlgorithm } from './keys.js'
