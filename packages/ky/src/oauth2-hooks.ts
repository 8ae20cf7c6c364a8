import type { TokenProvider } from '@tokenwell/core'
import type { AdapterOptions, ClientShape, Grant } from '@tokenwell/core/adapter'
import { createRequestProtocol, fetchHopByHop, isReplayableBody } from '@tokenwell/core/adapter'
import type { AfterResponseHook, BeforeErrorHook, BeforeRequestHook, NormalizedOptions } from 'ky'

export interface OAuth2HooksOptions extends AdapterOptions {
  /** With DPoP: the fetch the `fetch` these hooks give ky wraps. @default globalThis.fetch, at each request */
  fetch?: typeof fetch
}

/** What `ky.create()` / `ky.extend()` receive from `oauth2Hooks()`. */
export interface OAuth2Hooks {
  hooks: {
    beforeRequest: BeforeRequestHook[]
    afterResponse: AfterResponseHook[]
    beforeError: BeforeErrorHook[]
  }
  /** With DPoP only: ky's fetch, following an authorized request's redirects here. */
  fetch?: typeof fetch
}

/** ky's options for one call, as hooks receive them (`fetch` and `timeout` are there, untyped). */
type Options = NormalizedOptions & { fetch?: typeof fetch; timeout?: number | false }

/** One send of a ky request: the `Request` and ky's options for the whole call. */
interface Send {
  readonly request: Request
  readonly options: Options
}

/** How the protocol reads ky's requests; `prefix` is the first `prefixUrl` these hooks saw. */
const shapeOf = (prefix: () => string | undefined): ClientShape<Send, Response> => ({
  url: ({ request }) => request.url,
  method: ({ request }) => request.method,
  base: ({ options }) => options.prefixUrl,
  defaultBase: prefix, // for a request with `prefixUrl: ''`: ky keeps no record of the instance's
  ownCredentials: ({ request }) => request.headers.has('authorization'),
  // the body as the caller gave it: ky's Request holds every body as a stream
  body: ({ options }) => options.body,
  signal: ({ request }) => request.signal,
  timeout: ({ options }) => (typeof options.timeout === 'number' ? options.timeout : undefined),
  status: (response) => response.status,
  header: (response, name) => response.headers.get(name),
  responseUrl: (response) => (response.url === '' ? undefined : response.url),
})

/**
 * Hooks for `ky.create()` / `ky.extend()` that put `Authorization: <tokenType> <accessToken>`
 * from `provider` on requests and answer a 401 by renewing the token and sending the request
 * once more (every rule is `@tokenwell/core/adapter`'s).
 *
 * - Which requests: `match`; by default the origin of `prefixUrl`, and every request when there
 *   is none. A request that sets `prefixUrl: ''` falls back to the first `prefixUrl` these hooks
 *   saw (ky keeps no record of the instance's): an instance that sends absolute URLs should
 *   have a `match`. A request with its own `Authorization` is left alone.
 * - ky's own `retry` still works: its retries carry the request's current token (the renewed
 *   one after a replay), never a token fetched anew, and never the caller's header replaced.
 * - The replay is a copy of the request ky kept (the same bytes, the same signal), sent with
 *   ky's `fetch`; a `ReadableStream` body is sent once and its 401 returned. ky's later
 *   `afterResponse` hooks, `throwHttpErrors` and retries see the replay's response.
 * - With DPoP, the returned `fetch` follows an authorized request's redirects, a proof per hop.
 * - `signal` and ky's `timeout` also bound the wait for a token, never the token request.
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

  function apply(send: Send, grant: Grant): void {
    grants.set(send.options, grant)
    if (grant.dpop) calls.set(send.request, send.options)
    const { headers } = send.request
    if (grant.authorization === undefined) headers.delete('authorization')
    else headers.set('authorization', grant.authorization)
    if (grant.proof !== undefined) headers.set('dpop', grant.proof)
    else if (grant.dpop) headers.delete('dpop')
  }

  const beforeRequest: BeforeRequestHook = (request, options) => {
    const send = { request, options }
    prefix ||= options.prefixUrl
    const known = grants.get(options)
    // a ky retry: the grant this call holds now, not a new one, and not the caller's header
    const next = known ? protocol.again(known, send) : protocol.begin(send)
    if (next === undefined) return
    if (!(next instanceof Promise)) return apply(send, next)
    return next.then((grant) => grant && apply(send, grant)).catch(rethrow(protocol))
  }

  const afterResponse: AfterResponseHook = (request, options, response) => {
    const grant = grants.get(options)
    if (!grant) return
    const send = { request, options }
    const next = protocol.onResponse(grant, send, response)
    if (next === undefined) return
    return next.then(async (replay) => {
      if (!replay) return
      // ky keeps `request` unsent for its retries: the replay is a copy, so they still have a body
      const copy = request.clone()
      apply({ request: copy, options }, replay)
      return ((options as Options).fetch ?? fetch)(copy)
    }, rethrow(protocol))
  }

  // ky's HTTPError holds the request, and with it the Authorization header
  const beforeError: BeforeErrorHook = (error) => protocol.scrub(error)
  const hooks = { beforeRequest: [beforeRequest], afterResponse: [afterResponse], beforeError: [beforeError] }
  if (provider.dpop === undefined) return { hooks }

  // fetch follows redirects out of sight: a DPoP request's are followed here, hop by hop
  const dpopFetch = (request: Request, init?: RequestInit) => {
    const inner = given ?? globalThis.fetch
    const call = calls.get(request)
    const grant = call && grants.get(call)
    if (!call || grant?.authorization === undefined || request.redirect !== 'follow')
      return inner(request, init)
    const again = (g: Grant, hop: Request) => protocol.again(g, { request: hop, options: call })
    const replayable = isReplayableBody(call.body)
    return fetchHopByHop((r) => inner(r, init), request, grant, again, replayable).then((last) => {
      grants.set(call, last.grant) // the chain's last word: nothing once it left the origin
      return last.response
    })
  }
  return { hooks, fetch: dpopFetch as typeof fetch }
}

/** Errors leave without any token this adapter handed out. */
const rethrow =
  (protocol: { scrub<E>(error: E): E }) =>
  (error: unknown): never => {
    throw protocol.scrub(error)
  }
