import { describe, expect, it } from 'vitest'
import { hasAuthorization, rawHeader, withGrantHeaders } from '../src/adapter/index.js'
import type { Grant } from '../src/adapter/shape.js'

const bytes = (text: string) => Buffer.from(text, 'latin1')

describe('raw header lists', () => {
  it('reads one header of a flat list of bytes by lower-case name, as latin1', () => {
    const list = [
      bytes('Content-Type'),
      bytes('a/b'),
      bytes('WWW-Authenticate'),
      bytes('Bearer realm="\xe9"'),
    ]
    expect(rawHeader(list, 'www-authenticate')).toBe('Bearer realm="é"')
    expect(rawHeader(list, 'dpop-nonce')).toBeUndefined()
  })

  it('gives every value in order when a header came more than once or as a list', () => {
    const list = ['www-authenticate', 'Bearer', 'x', 'y', 'WWW-Authenticate', [bytes('DPoP'), bytes('Basic')]]
    expect(rawHeader(list, 'www-authenticate')).toEqual(['Bearer', 'DPoP', 'Basic'])
  })

  it('finds the caller’s Authorization in every form and adds the grant’s without changing theirs', () => {
    const grant = { authorization: 'Bearer t', proof: 'p' } as Grant
    const pairs = new Map([['Accept', 'a/b']])
    expect(
      [{ AUTHORIZATION: 'x' }, ['authorization', 'x'], new Map([['Authorization', 'x']])].map(
        hasAuthorization,
      ),
    ).toEqual([true, true, true])
    expect(hasAuthorization(['accept', 'authorization'])).toBe(false) // a value, not a name
    // fetch's forms: a `Headers`, pairs, a record, none
    expect(hasAuthorization(new Headers({ Authorization: 'Basic x' }))).toBe(true)
    expect(hasAuthorization(new Headers({ accept: 'authorization' }))).toBe(false)
    expect(hasAuthorization([['AUTHORIZATION', 'Basic x']])).toBe(true)
    expect([undefined, null, {}].map(hasAuthorization)).toEqual([false, false, false])
    expect(withGrantHeaders(pairs, grant)).toEqual([
      'Accept',
      'a/b',
      'authorization',
      'Bearer t',
      'dpop',
      'p',
    ])
    expect(withGrantHeaders({ a: '1' }, { ...grant, proof: undefined })).toEqual({
      a: '1',
      authorization: 'Bearer t',
    })
    expect([...pairs]).toEqual([['Accept', 'a/b']])
  })
})
