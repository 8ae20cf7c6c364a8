import { describe, expect, it } from 'vitest'
import { scrubCauses } from '../src/adapter/scrub-causes.js'

describe('scrubCauses', () => {
  it('clears the strings of an error and of its causes, hidden ones too, and leaves the rest', () => {
    const parser = Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
      data: 'X-Echo\u0001: Bearer tok-SECRET-0123456789\r\n',
    })
    Object.defineProperty(parser, 'hidden', {
      value: 'tok-SECRET-0123456789',
      enumerable: false,
      writable: true,
    })
    const inner = new AggregateError([new Error('echo tok-SECRET-0123456789')], 'many')
    ;(parser as { cause?: unknown }).cause = inner
    const error = new TypeError('fetch failed', { cause: new Error('wrapped', { cause: parser }) })
    expect(scrubCauses(error, ['tok-SECRET-0123456789'])).toBe(error)
    expect(parser.data).toBe('X-Echo\u0001: Bearer [redacted]\r\n')
    expect((parser as unknown as { hidden: string }).hidden).toBe('[redacted]')
    expect(parser.code).toBe('HPE_INVALID_HEADER_TOKEN')
    expect(inner.errors[0].message).toBe('echo [redacted]')
    expect(error.message).toBe('fetch failed')
  })

  it('clears a DPoP proof as sent and its signature; a cycle ends', () => {
    const proof = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS1wcm9vZg'
    const error = new Error(`echo ${proof} and ${proof.split('.')[2]}`)
    ;(error as { cause?: unknown }).cause = error
    scrubCauses(error, [], [proof])
    expect(error.message).toBe('echo [redacted] and [redacted]')
  })
})
