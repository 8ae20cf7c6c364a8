export { createDpop } from './create-dpop.js'
export {
  createDpopProof,
  type Dpop,
  type DpopOptions,
  type DpopProofRequest,
  type DpopSession,
  dpopNonceChallenge,
} from './dpop.js'
