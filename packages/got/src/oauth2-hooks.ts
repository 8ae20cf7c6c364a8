import type { TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  Attempt,
  type ClientShape,
  createRequestProtocol,
  dropGrantHeaders,
  dropGrantOnAbort,
  type Grant,
  isReplayableBody,
  keepsGrant,
  multipartBytes,
  putGrantHeaders,
  runFirst,
  runLast,
  scrubOnAbort,
  scrubOnCancel,
  socketOrigin,
} from '@tokenwell/core/adapter'
import type {
  AfterResponseHook,
  BeforeErrorHook,
  BeforeRequestHook,
  BeforeRetryHook,
  HandlerFunction,
  Hooks,
  InitHook,
  OptionsInit,
  PlainResponse,
  Request,
} from 'got'

export interface OAuth2HooksOptions extends AdapterOptions {}

/** What `got.extend()` receives from `oauth2Hooks()`. */
export interface OAuth2Hooks {
  hooks: Pick<Hooks, 'init' | 'beforeRequest' | 'afterResponse' | 'beforeRetry' | 'beforeError'>
  handlers: HandlerFunction[]
}

/** The instance's `prefixUrl`, kept in `context` for a request that goes without (`prefixUrl: ''`, got's next page). */
const BASE = Symbol.for('tokenwell.got.base')
const INSPECT = Symbol.for('nodejs.util.inspect.custom') // Node's `util.inspect` hook

/** The options a `beforeRequest` hook receives (its exact type differs between got 14 releases). */
type HookOptions = Parameters<BeforeRequestHook>[0]
/** `null` in `STATE`: the request went without the token, and so does every later send of it. */
type Context = Record<symbol, Grant | Attempt | string | null | undefined>
const contextOf = (options: { context: object }) => options.context as Context

// a Unix socket URL is an origin per socket (`socketOrigin`) wherever the protocol reads one
const shape: ClientShape<HookOptions, PlainResponse> = {
  url: ({ url }, whole) => (url instanceof URL ? (whole ? url : socketOrigin(url)) : undefined),
  method: (options) => options.method,
  base: (options) => socketOrigin(options.prefixUrl),
  defaultBase: (options) => socketOrigin(contextOf(options)[BASE] as string | undefined),
  ownCredentials: (o) => o.headers.authorization !== undefined || o.username !== '' || o.password !== '',
  body: (options) => options.body,
  signal: (options) => (options.signal instanceof AbortSignal ? options.signal : undefined),
  timeout: (options) => options.timeout.request,
  status: (response) => response.statusCode,
  header: (response, name) => response.headers[name],
  responseUrl: (response) => socketOrigin(response.url),
}

/**
 * Hooks for `got.extend()` that put tokens from `provider` on requests as
 * `@tokenwell/core/adapter` decides: by default only to the origin of `prefixUrl` (also when a
 * request sets `prefixUrl: ''`), never with the caller's own `authorization`, `username` or
 * `password`. got's retries and same-origin redirects carry the token (a new DPoP proof for
 * each); once a redirect chain left the origin, nothing is put back. A 401 renews the token and
 * replays once with `retryWithMergedOptions` (got's own retry limit is not spent). Errors carry
 * no token (`beforeError`).
 *
 * @example
 * const api = got.extend(oauth2Hooks(provider), { prefixUrl: 'https://api.example.com' })
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7, §9
 */
export function oauth2Hooks(provider: TokenProvider, options: OAuth2HooksOptions = {}): OAuth2Hooks {
  const protocol = createRequestProtocol(provider, options, shape)
  // in `options.context`, which got copies to every retry and redirect of one request; one pair per
  // call: each of two instances merged into one (`got.extend(a, b)`) keeps its own grant
  const STATE = Symbol('tokenwell.got.state') // the grant
  const ATTEMPT = Symbol('tokenwell.got.attempt') // the attempt a promise's `cancel()` ends, one object for all
  // init runs before the request's own options merge in: the instance's prefixUrl still decides
  const init: InitHook = (raw, options) => {
    const context = contextOf(options)
    if (options.prefixUrl !== '' && context[BASE] === undefined) context[BASE] = String(options.prefixUrl)
    // a new request given an earlier one's context (got's retries and redirects copy it, not here)
    const carried = raw.context as Context | undefined
    if (carried?.[STATE] !== undefined) raw.context = { ...carried, [STATE]: undefined }
  }

  function apply(options: HookOptions, grant: Grant | undefined): void | Promise<void> {
    const context = contextOf(options)
    const before = context[STATE] as Grant | undefined
    context[STATE] = grant ?? null
    const attempt = context[ATTEMPT] as Attempt | undefined
    if (attempt) attempt.headers = options.headers // those a CancelError of this attempt holds
    if (grant === undefined || attempt?.canceled) return // got sends a cancelled request's last attempt
    runLast(options.hooks.beforeRequest, guard, beforeRequest) // after every hook, also those after ours
    runFirst(options.hooks.beforeRetry, beforeRetry) // before every hook of the caller's, which may log
    runFirst(options.hooks.beforeError, beforeError) // the error: also those of an instance we extend
    putGrantHeaders(options.headers, grant, before)
    // got's AbortError reaches no beforeError; without a signal there is no listener to set or take off
    if (options.signal) dropGrantOnAbort(options.headers, shape.signal!(options), grant)
    // got encodes a FormData body into a one-shot generator before hooks run: its retries would send nothing
    if (!isReplayableBody(options.body))
      return multipartBytes(options.body, options.headers['content-type']).then((bytes) => {
        if (bytes) options.body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      })
  }

  // the last word on each send: a later beforeRequest hook that moved the request sends it without ours
  const guard: BeforeRequestHook = (options) => {
    const grant = contextOf(options)[STATE] as Grant | null | undefined
    if (grant && !keepsGrant(shape.url(options, false), grant, options.headers))
      contextOf(options)[STATE] = null
  }
  const beforeRequest: BeforeRequestHook = (options) => {
    const state = contextOf(options)[STATE] as Grant | null | undefined
    if (state === null) return // a redirect to the API of a request that went elsewhere: as it is
    // got's own retry or redirect, or our replay: the protocol says what this send carries
    const grant = state === undefined ? protocol.begin(options) : protocol.again(state, options)
    return grant instanceof Promise ? grant.then((g) => apply(options, g)) : apply(options, grant)
  }

  const afterResponse: AfterResponseHook = (response, retryWithMergedOptions) => {
    const { options } = response.request
    if (options.signal) dropGrantOnAbort(options.headers) // the request ended
    const grant = contextOf(options)[STATE] as Grant | undefined
    const next = grant && protocol.onResponse(grant, options as HookOptions, response)
    if (!next) return response // most responses: as they are, without an async step
    return next.then(async (replay) => {
      if (!replay) return response
      contextOf(options)[STATE] = replay
      // a replay counts as a retry, so got's own stay; preserveHooks (got ≥ 14.5): later hooks see it
      const merged = { retry: { limit: (options.retry.limit ?? 2) + 1 } } // 2: got's default
      try {
        return await retryWithMergedOptions({ preserveHooks: true, ...merged } as OptionsInit)
      } catch (error) {
        if ((error as Error)?.name === 'RetryError') throw error
        return retryWithMergedOptions(merged) // an older got: "Unexpected option: preserveHooks"
      }
    })
  }

  // the error a retry starts from goes to the caller's beforeRetry hooks (a log line): its options
  // without the token (beforeRequest puts it back on the retry); the rest is sent again as it is
  const beforeRetry: BeforeRetryHook = (error) => {
    const grant = contextOf(error.options)[STATE] as Grant | null | undefined
    if (grant) dropGrantHeaders(error.options.headers, grant)
  }
  // got's `Options` print through a new `inspect` (no depth, no cycle check): their fields, once
  const beforeError: BeforeErrorHook = (error) => {
    if (error.options) dropGrantOnAbort(error.options.headers)
    const fields = (error.options as unknown as { _internals?: object } | undefined)?._internals
    if (fields) Object.defineProperty(error.options, INSPECT, { value: () => fields, configurable: true })
    return protocol.scrub(error)
  }
  // got's AbortError and CancelError (`promise.cancel()`) reach no hook either, and hold the request
  // (its options, its raw head) of the attempt they ended
  const handler: HandlerFunction = (options, next) => {
    const attempt = new Attempt()
    contextOf(options)[ATTEMPT] = attempt
    const result = next(options)
    scrubOnAbort(result as Request, options.signal, () => contextOf(options)[STATE] as Grant)
    scrubOnCancel(result as never, attempt, protocol.scrub) // a stream has no cancel()
    return result
  }
  const hooks = { init: [init], beforeRequest: [beforeRequest], afterResponse: [afterResponse] }
  return { hooks: { ...hooks, beforeRetry: [beforeRetry], beforeError: [beforeError] }, handlers: [handler] }
}
