import { ConfigError, type TokenProvider } from '@tokenwell/core'
import type { AdapterOptions, ClientShape, Grant } from '@tokenwell/core/adapter'
import {
  createGrantLedger,
  createRequestProtocol,
  dropGrantOnAbort,
  fetchHopByHop,
  followsRedirectsHere,
  isReplayableBody,
  keepGrantOffClone,
  restoreClone,
  sendUnkept,
  setGrantHeaders,
} from '@tokenwell/core/adapter'
import type { BeforeErrorHook, BeforeRequestHook, NormalizedOptions } from 'ky'

export interface OAuth2HooksOptions extends AdapterOptions {
  /** The fetch the `fetch` these hooks give ky wraps. @default globalThis.fetch, at each request */
  fetch?: typeof fetch
}

/** What `ky.create()` / `ky.extend()` receive from `oauth2Hooks()`. */
export interface OAuth2Hooks {
  hooks: { beforeRequest: BeforeRequestHook[]; beforeError: BeforeErrorHook[] }
  /** ky's fetch: it answers a 401 (the replay) and, with DPoP, follows redirects hop by hop. */
  fetch: typeof fetch
}

/** ky's options for one call, as hooks receive them (`fetch` and `timeout` are there, untyped). */
type Options = NormalizedOptions & { fetch?: typeof fetch; timeout?: number | false }

/** One send of a ky request: the `Request` and ky's options for the whole call. */
type Send = { readonly request: Request; readonly options: Options }

/** How the protocol reads ky's requests; `prefix` is the first `prefixUrl` these hooks saw. */
const shapeOf = (prefix: () => string | undefined): ClientShape<Send, Response> => ({
  url: ({ request }) => request.url,
  method: ({ request }) => request.method,
  base: ({ options }) => options.prefixUrl,
  // a request with `prefixUrl: ''`: ky keeps no record of the instance's; none seen yet is unknown
  defaultBase: () => prefix() ?? null,
  ownCredentials: ({ request }) => request.headers.has('authorization'),
  // the body as the caller gave it: ky's Request holds every body as a stream
  body: ({ options }) => options.body,
  signal: ({ request }) => request.signal,
  timeout: ({ options }) => (typeof options.timeout === 'number' ? options.timeout : undefined),
  status: (response) => response.status,
  header: (response, name) => response.headers.get(name),
  responseUrl: (response) => (response.url === '' ? undefined : response.url),
  redirects: (response) => (response.redirected ? null : undefined), // fetch tells no hops
})

/**
 * Hooks for `ky.create()` / `ky.extend()` that put `Authorization: <tokenType> <accessToken>`
 * from `provider` on requests and answer a 401 by renewing the token and sending the request
 * once more, by the rules of `@tokenwell/core/adapter` (the package README says how each applies).
 *
 * - Which requests: `match`; by default the origin of `prefixUrl`. A request with `prefixUrl: ''`
 *   falls back to the first `prefixUrl` these hooks saw (ky keeps no record of the instance's);
 *   before one is seen, or on an instance without one, it is a `ConfigError` naming `match`.
 * - ky's `retry` still works: a retry carries the call's current token, never a new one.
 * - The replay happens in the returned `fetch` (ky's `timeout` bounds it too); a `ReadableStream`
 *   body is sent once. A `fetch` given to ky after these hooks is a `ConfigError`: pass it in
 *   `options.fetch`.
 *
 * @example
 * const api = ky.create({ prefixUrl: 'https://api.example.com', ...oauth2Hooks(provider) })
 * const orders = await api.get('orders').json()
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge), RFC 9449 §7 (DPoP)
 */
export function oauth2Hooks(provider: TokenProvider, options: OAuth2HooksOptions = {}): OAuth2Hooks {
  let prefix: string | undefined
  const { fetch: given, ...rest } = options
  const shape = shapeOf(() => prefix)
  const protocol = createRequestProtocol(provider, rest, shape)
  /** ky hands every hook of one call (its retries too) the same options object. */
  const grants = new WeakMap<Options, Grant>()
  /** The call of each `Request` sent with a DPoP grant: ky hands that very object to its fetch. */
  const calls = new WeakMap<Request, Options>()
  const ledger = createGrantLedger() // what grants put on requests: `new Request(url, request)` copies it
  /** Errors leave without any token this adapter handed out. */
  const rethrow = (error: unknown) => Promise.reject(protocol.scrub(error))

  function apply(send: Send, grant: Grant, kept = false): void {
    if (kept) keepGrantOffClone(send.request, grant)
    grants.set(send.options, grant)
    calls.set(send.request, send.options)
    setGrantHeaders(send.request.headers, grant)
    ledger.note(grant)
    // ky's TimeoutError holds the request and reaches no hook: a send hop by hop leaves it the token.
    // The request's signal: a retry after a timeout has a new one, its options (ky caches them) the old
    if (followsRedirectsHere(grant, given !== undefined))
      dropGrantOnAbort(send.request.headers, send.request.signal, grant)
  }

  const beforeRequest: BeforeRequestHook = (request, options) => {
    // the response decision (the replay) lives in our fetch: another fetch would skip it
    if ((options as Options).fetch !== authorizedFetch) throw new ConfigError(FOREIGN_FETCH)
    const send = { request, options }
    if (options.prefixUrl) prefix ??= options.prefixUrl
    const known = grants.get(options)
    // a ky retry: the grant this call holds now, not a new one, and not the caller's header
    const next = known ? protocol.again(known, send) : protocol.begin(send)
    if (next === undefined) return
    // ky keeps a clone of what it sends, for its hooks, its HTTPError and a retry: without our values
    if (!(next instanceof Promise)) return apply(send, next, true)
    return next.then((grant) => grant && apply(send, grant, true)).catch(rethrow)
  }

  /** One send of an authorized request; with DPoP, its redirects followed here, a proof per hop. */
  function send(request: Request, init: RequestInit | undefined, call: Options, grant: Grant) {
    const inner = given ?? globalThis.fetch
    if (!followsRedirectsHere(grant, given !== undefined) || request.redirect !== 'follow')
      return given ? inner(request, init) : sendUnkept(inner, request, init)
    const again = (g: Grant, hop: Request) => protocol.again(g, { request: hop, options: call })
    const replayable = isReplayableBody(call.body)
    return fetchHopByHop((r) => inner(r, init), request, grant, again, replayable).then((last) => {
      grants.set(call, last.grant) // the chain's last word: nothing once it left the origin
      return last.response
    })
  }

  // ky's fetch: the response decided here, so ky clones no response for an afterResponse hook
  const authorizedFetch = (request: Request, init?: RequestInit): Promise<Response> => {
    const call = calls.get(request)
    const grant = call && grants.get(call)
    if (call && grant) return answer(request, init, call, grant)
    // a Request a hook built from ours (a later beforeRequest hook, `ky.retry({ request })`): what
    // it copied goes to that origin only, and there as our send (its redirects, timeout and proof)
    const copied = ledger.screen(request)
    if (!copied) return (given ?? globalThis.fetch)(request, init)
    const copy = { request, options: { body: request.body } as Options } // a body: sent once
    return Promise.resolve(protocol.again(copied, copy)).then((next) => {
      apply(copy, next)
      return answer(request, init, copy.options, next)
    }, rethrow)
  }

  /** Sends `request` of `call` with `grant`, and what the protocol makes of the response. */
  function answer(request: Request, init: RequestInit | undefined, call: Options, grant: Grant) {
    restoreClone(request) // ky has cloned it: a fetch that clones what it sends clones it whole
    // sending consumes the body: a copy kept for the replay, when there is one to send again
    const spare = request.body !== null && isReplayableBody(call.body) ? request.clone() : request
    return send(request, init, call, grant).then((response) => {
      const next = protocol.onResponse(grants.get(call) ?? grant, { request: spare, options: call }, response)
      if (next === undefined) return response
      return next.then((replay) => {
        if (!replay) return response
        void response.body?.cancel().catch(() => {})
        apply({ request: spare, options: call }, replay)
        return send(spare, init, call, replay).catch(rethrow)
      }, rethrow)
    }, rethrow) // a fetch error may hold what the API echoed (undici's parser error: its bytes)
  }

  // ky's HTTPError holds the clone ky kept of the request (without our values) and what the API
  // echoed of them: the call's last proof is looked for in every form, though the request lacks it
  const beforeError: BeforeErrorHook = (error) => protocol.scrub(error, grants.get(error.options as Options))
  return {
    hooks: { beforeRequest: [beforeRequest], beforeError: [beforeError] },
    fetch: authorizedFetch as typeof fetch,
  }
}

/** A `fetch` given to ky after the hooks' own: its responses would never be answered. */
const FOREIGN_FETCH =
  'fetch: ky was given its own fetch after oauth2Hooks(); pass it as oauth2Hooks(provider, { fetch }) instead'
