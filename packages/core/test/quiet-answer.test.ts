import { request as httpRequest } from 'node:http'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { quietAnswer } from '../src/adapter/index.js'
import { createGrant, type Grant } from '../src/adapter/shape.js'
import type { Token } from '../src/token.js'

const grantOf = (fields: Partial<Grant> = {}): Grant =>
  createGrant({
    token: { accessToken: 'tok-SECRET', tokenType: 'DPoP' } as Token,
    origin: 'http://127.0.0.1:1',
    authorization: 'DPoP tok-SECRET',
    proof: 'proof-SECRET',
    dpop: true,
    replayed: false,
    ...fields,
  })

/** A Node request as a client leaves it once answered: its head written, follow-redirects' options beside it. */
function sentRequest(headers: Record<string, string>) {
  const request = httpRequest('http://127.0.0.1:1/orders', { headers, agent: false, lookup: () => {} })
  request.on('error', () => {})
  request.destroy()
  ;(request as unknown as { _header: string })._header = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  return Object.assign(request, { _redirectable: { _options: { headers: { ...headers } } } })
}

describe('quietAnswer', () => {
  it('leaves no token or proof in the headers, the Node request or its next hop; the caller’s own headers stay', () => {
    const sent = { Authorization: 'DPoP tok-SECRET', DPoP: 'proof-SECRET', 'X-Own': 'kept' }
    const headers: Record<string, unknown> = { ...sent }
    const request = sentRequest(sent)
    const answer = { status: 200 }
    expect(quietAnswer(answer, headers, request, grantOf())).toBe(answer)
    const printed = inspect({ headers, request }, { depth: Number.POSITIVE_INFINITY, showHidden: true })
    expect(printed.match(/SECRET/g) ?? []).toEqual([])
    expect(headers['X-Own']).toBe('kept')
    expect(request._redirectable._options.headers['X-Own']).toBe('kept')
    expect(request.getHeader('x-own')).toBe('kept')
  })

  // a deleted property turns every such object V8 meets after into a slow one (bench/instructions.ts)
  it('blanks the values, never deletes a property: each header object keeps its keys', () => {
    const sent = { Authorization: 'DPoP tok-SECRET', DPoP: 'proof-SECRET' }
    const headers: Record<string, unknown> = { ...sent }
    const request = sentRequest(sent)
    quietAnswer({}, headers, request, grantOf())
    expect(headers).toEqual({ Authorization: undefined, DPoP: undefined })
    expect(Object.keys(headers)).toEqual(['Authorization', 'DPoP'])
    expect(Object.keys(request._redirectable._options.headers)).toEqual(['Authorization', 'DPoP'])
  })

  it('finds the values under a name in another spelling too', () => {
    const headers: Record<string, unknown> = { AUTHORIZATION: 'DPoP tok-SECRET', Dpop: 'proof-SECRET' }
    quietAnswer({}, headers, undefined, grantOf())
    expect(headers).toEqual({ AUTHORIZATION: undefined, Dpop: undefined })
  })

  it('changes nothing for a grant that sent nothing, nor a header a hook of the caller’s set since', () => {
    const headers = { authorization: 'Bearer own' }
    quietAnswer({}, headers, undefined, grantOf())
    expect(headers).toEqual({ authorization: 'Bearer own' })
    const untouched = { authorization: 'DPoP tok-SECRET' }
    quietAnswer({}, untouched, undefined, grantOf({ authorization: undefined }))
    expect(untouched).toEqual({ authorization: 'DPoP tok-SECRET' })
    quietAnswer({}, untouched, undefined, null)
    expect(untouched).toEqual({ authorization: 'DPoP tok-SECRET' })
  })
})
