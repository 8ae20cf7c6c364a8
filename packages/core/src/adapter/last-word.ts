import { pageBase, startsWithOrigin } from './origin.js'
import type { Grant } from './shape.js'

/**
 * A request's headers as a client holds them: with `get` and `delete` (a fetch `Headers`, axios's
 * `AxiosHeaders`, both blind to case), or a record of lower-case names (got's).
 */
export type GrantHeaders =
  | { get(name: string): unknown; delete(name: string): unknown }
  | Record<string, unknown>

/**
 * Takes what `grant` put on `headers` off them: its `authorization` and its `dpop` proof, each only
 * while it still holds the grant's value, so a caller's own header (a hook's, set since) stays.
 */
export function dropGrantHeaders(headers: GrantHeaders, grant: Grant): void {
  for (const [name, value] of [
    ['authorization', grant.authorization],
    ['dpop', grant.proof],
  ] as const) {
    if (value === undefined) continue
    if (typeof headers.get === 'function') {
      const methods = headers as { get(name: string): unknown; delete(name: string): unknown }
      if (methods.get(name) === value) methods.delete(name)
    } else {
      const record = headers as Record<string, unknown>
      if (record[name] === value) delete record[name]
    }
  }
}

/** The origin of `href` as the client resolves it (a relative URL against the page), or `undefined`. */
function originOf(href: string): string | undefined {
  const page = pageBase()
  return URL.canParse(href, page) ? new URL(href, page).origin : undefined
}

/**
 * The last word on one send, once every hook of the caller's has run (those that run after the
 * adapter's may move the request): `true` when `url`, where the client sends it now, is of the
 * origin `grant` was decided for (one string compare when it starts with that origin); else what
 * `grant` put on `headers` is taken off them (`dropGrantHeaders`) and `false`: the token and proof
 * do not follow the request to another origin. A grant that sends nothing keeps nothing to check.
 * @see DESIGN.md rule 6
 */
export function keepsGrant(url: string | URL | undefined, grant: Grant, headers: GrantHeaders): boolean {
  if (grant.authorization === undefined) return true
  const href = typeof url === 'string' ? url : url?.href
  if (href !== undefined && (startsWithOrigin(href, grant.origin) || originOf(href) === grant.origin))
    return true
  dropGrantHeaders(headers, grant)
  return false
}

/** Values a ledger keeps: enough for the DPoP proofs of as many sends as are in flight. */
const LEDGER_SIZE = 64

/**
 * What an adapter's grants put on requests (each `authorization` and `dpop` value, and the grants
 * that put it there), for a request the adapter never saw: one a hook of the caller's built from
 * one it authorized (ky's `beforeRequest` returning `new Request(url, request)`, or its
 * `ky.retry({ request })` from the request an `afterResponse` hook was handed, copy the headers).
 */
export interface GrantLedger {
  /** Notes what `grant` sends; the grant a cached Bearer token reuses costs one compare. */
  note(grant: Grant): void
  /**
   * Takes each value of ours off `request` that no grant put on a request to its origin, and our
   * proof beside an `Authorization` that is not ours (the caller's own credentials get none). A
   * value that is none of ours (the caller's own `Authorization`) stays. Returns the grant whose
   * `Authorization` it still carries: the adapter sends it as that grant's (`again`), so its
   * redirects, timeouts and proof are ours to decide as for any send; `undefined` when none.
   */
  screen(request: Request): Grant | undefined
}

/** A `GrantLedger` of the last values noted. */
export function createGrantLedger(): GrantLedger {
  const noted = new Map<string, Grant[]>() // per value, the last grant for each origin
  let last: Grant | undefined
  const add = (value: string, grant: Grant) => {
    const known = (noted.get(value) ?? []).filter((other) => other.origin !== grant.origin)
    noted.delete(value) // the newest last: the token of many proofs outlives them
    known.push(grant)
    if (noted.size >= LEDGER_SIZE) noted.delete(noted.keys().next().value!)
    noted.set(value, known)
  }
  return {
    note(grant) {
      if (grant === last || grant.authorization === undefined) return
      last = grant
      add(grant.authorization, grant)
      if (grant.proof !== undefined) add(grant.proof, grant)
    },
    screen({ url, headers }) {
      const page = () => originOf(url) // parsed only for a URL that does not start with the origin
      const forUrl = (value: string | null) =>
        value === null
          ? undefined
          : noted.get(value)?.find((g) => startsWithOrigin(url, g.origin) || g.origin === page())
      const token = headers.get('authorization')
      const grant = forUrl(token)
      if (grant === undefined && token !== null && noted.has(token)) headers.delete('authorization')
      const proof = headers.get('dpop')
      if (proof !== null && noted.has(proof) && (grant === undefined || forUrl(proof) === undefined))
        headers.delete('dpop')
      return grant
    },
  }
}

/**
 * Puts `hook` at the end of `hooks`, a list the client runs in order and reads as it goes (got's
 * `beforeRequest`), from `self`, a hook of that list running now: `hook` then runs after every
 * other, those after `self` too. Once: a list a retry copied keeps it last, or has it moved there.
 * Not at all while `self` is last: no hook runs after it (the common case, and the hot path).
 */
export function runLast<H>(hooks: H[], hook: H, self: H): void {
  if (hooks[hooks.length - 1] === self) return
  const at = hooks.lastIndexOf(hook)
  if (at === hooks.length - 1) return
  if (at > hooks.indexOf(self)) hooks.splice(at, 1) // not yet run: running it later changes nothing
  hooks.push(hook)
}

/**
 * Puts `hook` first in `hooks`, a list the client runs in order (got's `beforeRetry`), once: a hook
 * of the caller's that came before it (an instance the adapter's hooks extended) then runs after it.
 */
export function runFirst<H>(hooks: H[], hook: H): void {
  if (hooks[0] === hook) return
  const at = hooks.indexOf(hook)
  if (at > 0) hooks.splice(at, 1)
  hooks.unshift(hook)
}

/** A function of a list the client runs in turn, each handed what the one before returned (axios's `transformRequest`). */
// biome-ignore lint/suspicious/noExplicitAny: the client's own transforms, called as it calls them
type Transform = (this: any, data: any, ...rest: any[]) => any

/**
 * What makes `list` (one function, a list of them, or none: axios's `transformRequest`) a list
 * whose last function ends by calling `last` with what the caller's last one returned, for a
 * client that runs it after every hook of the caller's (axios transforms a request's data once its
 * interceptors have run, right before its adapter sends, and normalizes every header before each
 * function: one function more would cost a pass over them all). `list` itself when it already
 * does; else a new list, the same one for every copy of a list of one (axios hands every request
 * its own copy of its defaults' list of one: nothing made per request), and `list` never changes.
 */
export function endingWith<F extends Transform>(last: F): (list: F | readonly F[] | undefined) => F[] {
  const joined = new WeakMap<F, F>() // a function of the caller's: it, then `last`
  const theirs = new WeakMap<F, F>() // the other way round
  const ofOne = new WeakMap<F, F[]>()
  const none = [last]
  const join = (fn: F): F => {
    let both = joined.get(fn)
    if (both === undefined) {
      // axios hands each function three: the data, the headers, the status (a response's)
      both = function (this: unknown, data: unknown, a: unknown, b: unknown) {
        return last.call(this, fn.call(this, data, a, b), a, b)
      } as F
      joined.set(fn, both)
      theirs.set(both, fn)
    }
    return both
  }
  return (list) => {
    const fns = (list === undefined ? [] : Array.isArray(list) ? list : [list]) as F[]
    const end = fns.at(-1)
    if (end === undefined) return none
    if (end === last || theirs.has(end)) return fns
    if (fns.length === 1) {
      let copy = ofOne.get(end)
      if (copy === undefined) {
        copy = [join(end)]
        ofOne.set(end, copy)
      }
      return copy
    }
    const plain = fns.map((fn) => theirs.get(fn) ?? fn).filter((fn) => fn !== last)
    return [...plain.slice(0, -1), join(plain.at(-1)!)]
  }
}

/**
 * Whether `hooks` (axios's request interceptors, in the order they were added) holds one, not
 * ejected, before index `self`: axios runs those after `self`, so they may move a request after
 * the adapter decided on it. None: nothing after the adapter's can, and the last word is not needed.
 */
export function hooksAfter(hooks: readonly unknown[] | null | undefined, self: number): boolean {
  for (let i = 0; hooks && i < self && i < hooks.length; i++) if (hooks[i] != null) return true
  return false
}

const pinned = new WeakSet<object>()
const endings = new WeakMap<Transform, (list: unknown) => unknown[]>()

/** `endingWith(last)`, made once per `last`. */
function endingFor(last: Transform): (list: unknown) => unknown[] {
  const lastOf = endingWith(last) as (list: unknown) => unknown[]
  endings.set(last, lastOf)
  return lastOf
}

/**
 * Makes `target[key]` (axios's `transformRequest` on one request's config) a list that ends by
 * calling `last` (see `endingWith`): the caller's own functions in it run first, and may move the
 * request (axios calls them with the config as `this`). With `pin` (a hook of the caller's runs after the
 * adapter's) it keeps whatever list is set on it ending with `last`: such a hook cannot drop the
 * adapter's last word, nor delete it (that throws). Without, a plain property, set once (the hot
 * path: nothing made per request). Pinned once per object; a copy of it (`{ ...config }`) holds the
 * list as it was, a plain property.
 */
export function pinEnding(target: object, key: string, last: Transform, pin = true): void {
  if (pinned.has(target)) return
  const lastOf = endings.get(last) ?? endingFor(last)
  let list = lastOf((target as Record<string, unknown>)[key])
  if (!pin) {
    ;(target as Record<string, unknown>)[key] = list
    return
  }
  pinned.add(target)
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: false,
    get: () => list,
    set: (value: unknown) => {
      list = lastOf(value)
    },
  })
}
