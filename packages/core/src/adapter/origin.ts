/**
 * Whether `href` is a URL of `origin` as the URL parser would read it, without parsing: it
 * starts with the serialized origin and the authority ends right there. `false` says nothing
 * (`HTTPS://Host:443/` is of `https://host` too): then parse. A match also means the URL has
 * no userinfo (the authority ends before any `@`).
 */
export function startsWithOrigin(href: string, origin: string): boolean {
  if (!href.startsWith(origin)) return false
  const next = href.charCodeAt(origin.length)
  return Number.isNaN(next) || next === 47 || next === 63 || next === 35 // end, '/', '?', '#'
}

/** The origin of the first of `origins` that `href` starts with (see `startsWithOrigin`). */
export function knownOriginOf(href: string, origins: readonly string[]): string | undefined {
  for (const origin of origins) if (startsWithOrigin(href, origin)) return origin
  return undefined
}

/**
 * The origin of a client's base URL, or `null` when it names none. A relative one (a
 * browser's `/api`) names the page's own origin: it is resolved against the page's address,
 * not its `<base href>`, which a markup injection can point at any origin (relative requests
 * then go there, as `pageBase` says, and without the token). An unparsable one authorizes nothing.
 */
export function baseOrigin(base: string | URL): string | null {
  if (typeof base !== 'string') return base.origin
  if (URL.canParse(base)) return new URL(base).origin
  const page = (globalThis as { location?: { href?: string } }).location?.href
  return URL.canParse(base, page) ? new URL(base, page).origin : null
}

/**
 * The URL a relative request URL is resolved against here: a document's base URL (which a
 * `<base href>` sets, to any origin) where there is one, as fetch and XHR resolve it, else the
 * worker's or runtime's location; `undefined` in Node.
 * @see HTML standard §2.4.1 (document base URL), Fetch standard §5.3 (`new Request(input)`)
 */
export function pageBase(): string | undefined {
  const scope = globalThis as { document?: { baseURI?: unknown }; location?: { href?: string } }
  const base = scope.document?.baseURI
  return typeof base === 'string' ? base : scope.location?.href
}

/** A page or a worker: its fetch and XHR are the browser's, whatever wraps them. */
export const IN_BROWSER =
  typeof (globalThis as { document?: unknown }).document === 'object' ||
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function'

/** A URL whose host is `unix` in any case, read without parsing (most are not: the hot path). */
const UNIX_HOST = /^[a-z][a-z\d+.-]*:\/\/unix(?:[:/?#]|$)/i

/**
 * The URL to read the origin of for a client that names a Unix domain socket in the URL (got's
 * `http://unix:/run/api.sock:/path`, with `enableUnixSockets`): each socket is an origin of its own,
 * as for got, whose redirect to another socket drops `Authorization`. The URL parser gives them all
 * `http://unix`; here the socket path (in hex) is the host, `http://2f72756e2f6170692e736f636b.unix`,
 * so a token for one socket is for none other. Any other URL, and `undefined`, as it is.
 */
export function socketOrigin<U extends string | URL | undefined>(url: U): U | URL {
  if (url === undefined || (typeof url === 'string' ? !UNIX_HOST.test(url) : url.hostname !== 'unix'))
    return url
  const parsed = typeof url === 'string' ? (URL.canParse(url) ? new URL(url) : undefined) : (url as URL)
  // got's own reading: the socket path ends at the first ':' of the path
  const socket = parsed && /^(.+?):/.exec(`${parsed.pathname}${parsed.search}`)?.[1]
  if (!socket) return url // not a socket URL: the host named unix
  const hex = Array.from(new TextEncoder().encode(socket), (byte) => byte.toString(16).padStart(2, '0'))
  return new URL(`${parsed.protocol}//${hex.join('')}.unix`)
}
