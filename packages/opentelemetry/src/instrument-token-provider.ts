import {
  type Attributes,
  type MeterProvider,
  metrics,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { ConfigError, type GetTokenOptions, type Token, type TokenProvider } from '@tokenwell/core'
import { errorAttributes, providerAttributes } from './attributes.js'
import { createInstruments } from './instruments.js'

/** Where the measurements go. Every option is optional. */
export interface InstrumentTokenProviderOptions {
  /** @default the global meter provider, `metrics.getMeterProvider()` */
  meterProvider?: MeterProvider
  /** @default the global tracer provider, `trace.getTracerProvider()` */
  tracerProvider?: TracerProvider
  /** Added to every span and measurement, e.g. `{ 'tokenwell.provider': 'orders' }`. Put no secret here. */
  attributes?: Attributes
  /** Epoch ms for span start and end times. @default Date.now */
  clock?: () => number
}

/** The provider it wraps, measuring as it goes; pass it to the adapters in its place. */
export interface InstrumentedTokenProvider extends TokenProvider {
  /** Stops recording (removes the listeners on the wrapped provider); the provider keeps working. */
  uninstrument(): void
}

/** Instrumentation scope name of the meter and the tracer. */
const SCOPE = '@tokenwell/opentelemetry'
const SPAN = 'tokenwell.token.request'

/**
 * Records OpenTelemetry metrics and a span per token request for `provider`, from its events
 * (`token`, `token-error`, `refresh-failed`, `store-error`) and from the calls made through the
 * returned provider (cache hits and misses, `invalidate()` after a 401). No attribute carries a
 * secret, a token or an error message. Uses the global providers unless given others.
 *
 * @example
 * const provider = instrumentTokenProvider(createTokenProvider(options))
 * oauth2Interceptor(api, provider) // the adapters use the instrumented provider
 */
export function instrumentTokenProvider(
  provider: TokenProvider,
  options: InstrumentTokenProviderOptions = {},
): InstrumentedTokenProvider {
  if (typeof provider?.getToken !== 'function' || typeof provider.on !== 'function') {
    throw new ConfigError('provider must be a TokenProvider (from createTokenProvider)')
  }
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
  const m = createInstruments(meter)
  const clock = options.clock ?? Date.now
  const base = () => providerAttributes(provider.keyInfo, options.attributes)
  let active = true
  /** Start of the oldest getToken() that missed the cache and is still waiting. */
  let waitingSince: number | undefined
  let waiting = 0
  /** Attempts that failed and were retried, shown as events of the request's span. */
  let retried: { at: number; attributes: Attributes }[] = []

  function endSpan(start: number, end: number, attributes: Attributes, failed: boolean): void {
    const span = tracer.startSpan(SPAN, { kind: SpanKind.CLIENT, startTime: start, attributes })
    for (const attempt of retried)
      span.addEvent('tokenwell.token.attempt_failed', attempt.attributes, attempt.at)
    retried = []
    waitingSince = undefined
    span.setStatus({ code: failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET })
    span.end(end)
  }

  const listeners = [
    provider.on('token', (e) => {
      const attributes = providerAttributes(e.key, options.attributes)
      if (e.source === 'store') return m.storeTokens.add(1, attributes)
      const now = clock()
      const request = {
        ...attributes,
        'tokenwell.token.outcome': 'success',
        'tokenwell.token.background': e.background,
      }
      m.requests.add(1, request)
      m.duration.record(e.durationMs / 1000, request)
      if (e.background) m.backgroundRefreshes.add(1, attributes)
      endSpan(now - e.durationMs, now, request, false)
    }),
    provider.on('token-error', (e) => {
      const now = clock()
      const failure: Attributes = { ...errorAttributes(e.error), 'tokenwell.token.will_retry': e.willRetry }
      const request = {
        ...providerAttributes(e.key, options.attributes),
        'tokenwell.token.outcome': 'failure',
      }
      m.requests.add(1, { ...request, ...failure })
      if (e.willRetry) {
        retried.push({ at: now, attributes: { ...failure, 'tokenwell.token.attempt': e.attempt } })
        return
      }
      // no event marks a request's start: a failure is timed from the first caller that waited for it
      const start = waitingSince ?? retried[0]?.at ?? now
      m.duration.record((now - start) / 1000, { ...request, 'error.type': failure['error.type'] })
      endSpan(
        start,
        now,
        { ...request, ...errorAttributes(e.error), 'tokenwell.token.attempts': e.attempt },
        true,
      )
    }),
    provider.on('refresh-failed', (e) =>
      m.refreshFailures.add(1, {
        ...providerAttributes(e.key, options.attributes),
        ...errorAttributes(e.error),
      }),
    ),
    provider.on('store-error', (e) =>
      m.storeErrors.add(1, {
        ...providerAttributes(e.key, options.attributes),
        ...errorAttributes(e.error),
        'tokenwell.store.operation': e.operation,
      }),
    ),
  ]

  const lookup = (result: 'hit' | 'miss') => {
    if (active) m.cacheLookups.add(1, { ...base(), 'tokenwell.cache.result': result })
  }
  const peek = () => (typeof provider.peekToken === 'function' ? provider.peekToken() : undefined)

  return Object.create(provider, {
    getToken: {
      async value(getOptions: GetTokenOptions = {}): Promise<Token> {
        getOptions.signal?.throwIfAborted()
        // the cached token is the configured scope's: a per-call scope or claims has its own
        const own = getOptions.scope !== undefined || getOptions.claims !== undefined
        const cached = getOptions.forceRefresh || own ? undefined : peek()
        lookup(cached ? 'hit' : 'miss')
        if (cached) return cached
        waitingSince ??= clock()
        waiting++
        try {
          return await provider.getToken(getOptions)
        } finally {
          if (--waiting === 0) waitingSince = undefined
        }
      },
    },
    peekToken: {
      value(): Token | undefined {
        const token = peek()
        // a miss is counted by the getToken() that follows it, so each lookup counts once
        if (token) lookup('hit')
        return token
      },
    },
    invalidate: {
      async value(token: Token | string): Promise<boolean> {
        const dropped = await provider.invalidate(token)
        if (active) m.invalidations.add(1, { ...base(), 'tokenwell.invalidation.dropped': dropped })
        return dropped
      },
    },
    uninstrument: {
      value(): void {
        active = false
        for (const off of listeners) off()
      },
    },
  }) as InstrumentedTokenProvider
}
