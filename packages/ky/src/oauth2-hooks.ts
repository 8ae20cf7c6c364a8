import { ConfigError, type TokenProvider } from '@tokenwell/core'
import type { AdapterOptions, ClientShape, Grant } from '@tokenwell/core/adapter'
import {
  checkedFetch,
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

/** ky's options for a call as hooks get them (`fetch`, `timeout` there untyped); one send of it. */
type Options = NormalizedOptions & { fetch?: typeof fetch; timeout?: number | false }
type Send = { readonly request: Request; readonly options: Options }

/** How the protocol reads ky's requests; `prefix` is the first `prefixUrl` these hooks saw. */
const shapeOf = (prefix: () => string | undefined): ClientShape<Send, Response> => ({
  url: ({ request }) => request.url,
  method: ({ request }) => request.method,
  base: ({ options }) => options.prefixUrl,
  defaultBase: () => prefix() ?? null, // `prefixUrl: ''`: ky keeps no record of the instance's
  ownCredentials: ({ request }) => request.headers.has('authorization'),
  body: ({ options }) => options.body, // as the caller gave it: ky's Request holds any body as a stream
  signal: ({ request }) => request.signal,
  timeout: ({ options }) => (typeof options.timeout === 'number' ? options.timeout : undefined),
  status: (response) => response.status,
  header: (response, name) => response.headers.get(name),
  responseUrl: (response) => (response.url === '' ? undefined : response.url),
  redirects: (response) => (response.redirected ? null : undefined), // fetch tells no hops
})

/**
 * Hooks for `ky.create()` / `ky.extend()` that put `Authorization: <tokenType> <accessToken>`
 * from `provider` on requests and answer a 401 by renewing the token and sending the request once
 * more, by the rules of `@tokenwell/core/adapter`, to the origin of `prefixUrl` unless `match` says
 * otherwise. The replay is in the returned `fetch`: yours goes in `options.fetch` (to ky: `ConfigError`).
 * @example
 * const api = ky.create({ prefixUrl: 'https://api.example.com', ...oauth2Hooks(provider) })
 * const orders = await api.get('orders').json()
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge), RFC 9449 §7 (DPoP)
 */
export function oauth2Hooks(provider: TokenProvider, options: OAuth2HooksOptions = {}): OAuth2Hooks {
  let prefix: string | undefined
  const { fetch: given, ...rest } = options
  const shape = shapeOf(() => prefix)
  const raw = checkedFetch<RequestInit>(given ?? sendUnkept) // Node: a dispatcher bound elsewhere is refused
  const protocol = createRequestProtocol(provider, rest, shape)
  const grants = new WeakMap<Options, Grant>() // ky hands every hook of a call (retries too) one options
  const calls = new WeakMap<Request, Options>() // each authorized `Request`: ky hands it to its fetch
  const ledger = createGrantLedger() // what grants put on requests: `new Request(url, request)` copies it
  const rethrow = (error: unknown) => Promise.reject(protocol.scrub(error)) // errors leave without a token

  function apply(send: Send, grant: Grant, kept = false): void {
    if (kept) keepGrantOffClone(send.request, grant)
    grants.set(send.options, grant)
    calls.set(send.request, send.options)
    setGrantHeaders(send.request.headers, grant)
    ledger.note(grant)
    // ky's TimeoutError holds the request, reaches no hook; a retry after a timeout has a new signal
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
    if (!followsRedirectsHere(grant, given !== undefined) || request.redirect !== 'follow')
      return raw(request, init)
    const again = (g: Grant, hop: Request) => protocol.again(g, { request: hop, options: call })
    const replayable = isReplayableBody(call.body)
    return fetchHopByHop((r) => raw(r, init), request, grant, again, replayable).then((last) => {
      grants.set(call, last.grant) // the chain's last word: nothing once it left the origin
      return last.response
    })
  }

  const authorizedFetch = (request: Request, init?: RequestInit): Promise<Response> => {
    const call = calls.get(request) // ky's fetch: the response decided here, not in an afterResponse hook
    const grant = call && grants.get(call)
    if (call && grant) return answer(request, init, call, grant)
    // a Request a hook built from ours (`ky.retry({ request })`): our values to their origin only, as ours
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

  // ky's HTTPError holds what the API echoed: the call's last proof is looked for there too
  const beforeError: BeforeErrorHook = (error) => protocol.scrub(error, grants.get(error.options as Options))
  return {
    hooks: { beforeRequest: [beforeRequest], beforeError: [beforeError] },
    fetch: authorizedFetch as typeof fetch,
  }
}

/** A `fetch` given to ky after the hooks' own: its responses would never be answered. */
const FOREIGN_FETCH =
  'fetch: ky was given its own fetch after oauth2Hooks(); pass it as oauth2Hooks(provider, { fetch }) instead'
