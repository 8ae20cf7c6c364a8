/**
 * Whether a request body can be sent a second time: strings, `URLSearchParams`, `FormData`,
 * `Blob`, `ArrayBuffer` and its views, and plain JSON values can; streams, async iterables and
 * generators cannot (they are consumed by the first send).
 */
export function isReplayableBody(body: unknown): boolean {
  if (body === null || body === undefined || typeof body !== 'object') return true
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return false
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false // a Node stream
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return true
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true
  if (body instanceof URLSearchParams || Array.isArray(body)) return true
  const iterable = body as { [Symbol.asyncIterator]?: unknown; next?: unknown }
  return typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable.next !== 'function'
}

/** Headers that describe a body, dropped with it on a redirect that drops the body (Fetch standard's request-body-header names). */
export const BODY_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
]

const BARE_MULTIPART = /^multipart\/form-data\s*;?\s*$/i

/**
 * A multipart `Content-Type` with a boundary fixed now, for a client that picks a random one on
 * every send (axios): the replay then sends the first send's bytes. `undefined` when `type`
 * already names a boundary or another type.
 */
export function pinnedMultipartType(type: unknown): string | undefined {
  if (typeof type === 'string' && type !== '' && !BARE_MULTIPART.test(type)) return undefined
  return `multipart/form-data; boundary=tokenwell-${crypto.randomUUID()}`
}

/**
 * The bytes of a multipart body a client encoded into a one-shot iterable before its hooks ran
 * (got), read so that every resend sends them; `undefined` for any other body (a stream is sent once).
 */
export async function multipartBytes(body: unknown, type: unknown): Promise<Uint8Array | undefined> {
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return undefined
  if (typeof type !== 'string' || !/^multipart\/form-data/i.test(type)) return undefined
  const chunks: Uint8Array[] = []
  for await (const chunk of body as AsyncIterable<Uint8Array | string>)
    chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk)
  const bytes = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0))
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.length
  }
  return bytes
}
