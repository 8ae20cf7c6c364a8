export {
  type InstrumentedTokenProvider,
  type InstrumentTokenProviderOptions,
  instrumentTokenProvider,
} from './instrument-token-provider.js'
