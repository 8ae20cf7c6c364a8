import type { TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  Attempt,
  type ClientShape,
  createRequestProtocol,
  dropGrantOnAbort,
  type Grant,
  isReplayableBody,
  keepsGrant,
  multipartBytes,
  putGrantHeaders,
  quietAnswer,
  replayThroughGot,
  runFirst,
  runLast,
  scrubGotError,
  scrubOnAbort,
  scrubOnCancel,
  scrubRetryError,
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
 * Hooks for `got.extend()` that put tokens from `provider` on requests as `@tokenwell/core/adapter`
 * decides: by default only to the origin of `prefixUrl` (also for `prefixUrl: ''`), never with the
 * caller's own `authorization`, `username` or `password`. got's retries and same-origin redirects
 * carry the token (a new DPoP proof each); once a chain left the origin, nothing is put back. A 401
 * renews the token and replays once (got's retry limit is not spent). Errors carry no token.
 *
 * @example
 * const api = got.extend(oauth2Hooks(provider), { prefixUrl: 'https://api.example.com' })
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7, §9
 */
export function oauth2Hooks(provider: TokenProvider, options: OAuth2HooksOptions = {}): OAuth2Hooks {
  const protocol = createRequestProtocol(provider, options, shape)
  // in `context` (got copies it to each retry and hop), per call: merged instances keep their own
  const [STATE, ATTEMPT] = [Symbol('tokenwell.got.state'), Symbol('tokenwell.got.attempt')]
  const stateOf = (options: { context: object }) => contextOf(options)[STATE] as Grant | null | undefined
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
    // the headers a CancelError holds; got still sends a cancelled request's attempt: without the token
    if (grant === undefined || (context[ATTEMPT] as Attempt | undefined)?.note(options.headers)) return
    runLast(options.hooks.beforeRequest, guard, beforeRequest) // after every hook, also those after ours
    runFirst(options.hooks.beforeRetry, beforeRetry) // before the caller's (those of an instance we
    runFirst(options.hooks.beforeError, beforeError) // extend too), which may log the error
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
    const grant = stateOf(options)
    if (grant && !keepsGrant(shape.url(options, false), grant, options.headers))
      contextOf(options)[STATE] = null
  }
  const beforeRequest: BeforeRequestHook = (options) => {
    const state = stateOf(options)
    if (state === null) return // a redirect to the API of a request that went elsewhere: as it is
    const grant = state === undefined ? protocol.begin(options) : protocol.again(state, options)
    return grant instanceof Promise ? grant.then((g) => apply(options, g)) : apply(options, grant)
  }

  const afterResponse: AfterResponseHook = (response, retryWithMergedOptions) => {
    const { options } = response.request
    if (options.signal) dropGrantOnAbort(options.headers) // the request ended
    const grant = stateOf(options)
    const next = grant && protocol.onResponse(grant, options as HookOptions, response)
    if (!next) return quietAnswer(response, options.headers, response.request, grant) // no async step
    return next.then((replay) => {
      if (!replay) return quietAnswer(response, options.headers, response.request, grant)
      contextOf(options)[STATE] = replay
      return replayThroughGot(retryWithMergedOptions as (o: object) => Promise<never>, options.retry.limit)
    })
  }
  // the error a retry starts from: its options without the token (beforeRequest puts it back)
  const beforeRetry: BeforeRetryHook = (error) => scrubRetryError(error, stateOf(error.options))
  const beforeError: BeforeErrorHook = (error) => scrubGotError(error, protocol.scrub, stateOf(error.options))
  // got's AbortError and CancelError (`cancel()`) reach no hook, and hold their attempt's request
  const handler: HandlerFunction = (options, next) => {
    contextOf(options)[ATTEMPT] = new Attempt()
    const result = next(options)
    scrubOnAbort(result as Request, options.signal, () => stateOf(options) as Grant)
    scrubOnCancel(result as never, contextOf(options)[ATTEMPT] as Attempt, protocol.scrub) // a stream has none
    return result
  }
  const hooks = { init: [init], beforeRequest: [beforeRequest], afterResponse: [afterResponse] }
  return { hooks: { ...hooks, beforeRetry: [beforeRetry], beforeError: [beforeError] }, handlers: [handler] }
}
