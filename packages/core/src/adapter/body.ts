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
