import type { Counter, Histogram, Meter } from '@opentelemetry/api'

/** The instruments of one instrumented provider; names and units are the README's table. */
export interface TokenInstruments {
  requests: Counter
  duration: Histogram
  cacheLookups: Counter
  storeTokens: Counter
  backgroundRefreshes: Counter
  refreshFailures: Counter
  invalidations: Counter
  storeErrors: Counter
}

/** Token requests take milliseconds to seconds; a timeout is 10 s by default, retries up to 30 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30]

/** Creates the instruments on `meter`, named in the style of the OpenTelemetry semantic conventions. */
export function createInstruments(meter: Meter): TokenInstruments {
  return {
    requests: meter.createCounter('tokenwell.token.requests', {
      description: 'Token endpoint requests (each attempt), by tokenwell.token.outcome',
      unit: '{request}',
    }),
    duration: meter.createHistogram('tokenwell.token.request.duration', {
      description: 'Time to get a token from the token endpoint, retries included',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    cacheLookups: meter.createCounter('tokenwell.cache.lookups', {
      description:
        'getToken() and peekToken() calls, by tokenwell.cache.result (hit: the cached token at once)',
      unit: '{lookup}',
    }),
    storeTokens: meter.createCounter('tokenwell.store.tokens', {
      description: 'Tokens read from the shared store instead of the token endpoint',
      unit: '{token}',
    }),
    backgroundRefreshes: meter.createCounter('tokenwell.token.background_refreshes', {
      description: 'Tokens refreshed ahead of expiry in the background, no caller waiting',
      unit: '{refresh}',
    }),
    refreshFailures: meter.createCounter('tokenwell.token.refresh_failures', {
      description: 'Refreshes that failed while the cached token was still valid (callers kept it)',
      unit: '{failure}',
    }),
    invalidations: meter.createCounter('tokenwell.token.invalidations', {
      description: 'invalidate() calls: an adapter makes one per 401 it replays with a new token',
      unit: '{invalidation}',
    }),
    storeErrors: meter.createCounter('tokenwell.store.errors', {
      description: 'Failed store operations (a cache miss, never a failed request)',
      unit: '{error}',
    }),
  }
}
