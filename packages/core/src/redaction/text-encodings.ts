// Text encodings a server may echo a secret in, shared by the scrubber and its printed views.

/** `code` in hex, `width` digits at least, lower case. */
export const hex = (code: number, width: number) => code.toString(16).padStart(width, '0')
/** Whether `code` is the first half of a UTF-16 surrogate pair. */
export const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff
/** Whether `code` is the second half of a UTF-16 surrogate pair. */
export const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff

/** `application/x-www-form-urlencoded` encoding of one value (space → `+`), as `URLSearchParams` does it. */
export function formEncode(value: string): string {
  try {
    return encodeURIComponent(value)
      .replace(/[!'()~]/g, (c) => `%${hex(c.charCodeAt(0), 2).toUpperCase()}`)
      .replaceAll('%20', '+')
  } catch {
    // a lone surrogate: URLSearchParams would have sent U+FFFD
    return new URLSearchParams({ v: value }).toString().slice(2)
  }
}

export function uriEncode(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return value
  }
}

export function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '))
  } catch {
    return value
  }
}

/** The UTF-8 bytes of `value`, one character each: how fetch reads a header or status text that carries them as is. */
export function latin1(value: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte)
  return binary
}

/** The UTF-8 bytes of `value` in lower case hex, two digits each. */
export function hexBytes(value: string): string {
  let out = ''
  for (const byte of new TextEncoder().encode(value)) out += hex(byte, 2)
  return out
}

export function base64(value: string): string {
  return btoa(latin1(value))
}

export function decodeBase64(value: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))
  } catch {
    return ''
  }
}
