import type { Scrubber } from '../redaction/secret-scrubber.js'

// What `scrubSecrets` does with the objects of a client it cannot simply walk: fetch's `Response`
// and `Headers` (their state is private) and Node's requests that are still sending.

/**
 * `response` with what its headers or status text hold of a secret redacted: a copy with the same
 * status, URL and (unread) body, so a caller can still read what the API answered; else `response`
 * (with an own, redacted `url` when its URL holds one: a redirect that echoed it).
 */
export function scrubResponse(response: Response, redact: Scrubber): Response {
  const headers = new Headers()
  let changed = false
  for (const [name, value] of response.headers) {
    const safe = redact(value)
    changed ||= safe !== value
    headers.append(name, safe)
  }
  const statusText = redact(response.statusText)
  const url = redact(response.url)
  if (!changed && statusText === response.statusText) {
    if (url !== response.url) Object.defineProperty(response, 'url', { value: url, configurable: true })
    return response
  }
  try {
    const copy = new Response(response.bodyUsed ? null : response.body, {
      status: response.status,
      statusText,
      headers,
    })
    return Object.defineProperty(copy, 'url', { value: url, configurable: true })
  } catch {
    return response // a status a Response cannot be made with (0, 1xx), or a body it cannot have (204)
  }
}

/** Drops `authorization`/`dpop` holding a secret from `headers`, redacts it elsewhere; immutable headers are left. */
export function scrubHeaders(headers: Headers, redact: Scrubber): void {
  for (const [name, value] of [...headers]) {
    const safe = redact(value)
    if (safe === value) continue
    try {
      if (name === 'authorization' || name === 'dpop') headers.delete(name)
      else headers.set(name, safe)
    } catch {
      // a fetched response's headers are immutable: a copy of the response is not ours to make
    }
  }
}

/**
 * Whether `node` holds bytes of another request that are yet to go out, and the event after
 * which they are out: an error reaches the client's agent and sockets, and through them requests
 * queued behind it (a Node `ClientRequest` whose head waits in `outputData` until `finish`, a
 * socket's data pending its `connect`, a stream's buffered writes). Changed now, such a request
 * would be sent with `[redacted]` for its token.
 */
export function stillSending(node: object): 'finish' | 'connect' | 'drain' | undefined {
  const n = node as {
    outputData?: unknown[]
    destroyed?: boolean
    connecting?: boolean
    buffered?: unknown[]
  }
  if (n.destroyed === true) return undefined
  if (Array.isArray(n.outputData) && n.outputData.length > 0) return 'finish'
  if (n.connecting === true) return 'connect'
  return Array.isArray(n.buffered) && n.buffered.length > 0 ? 'drain' : undefined
}
