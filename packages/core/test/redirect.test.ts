import { describe, expect, it } from 'vitest'
import { BODY_HEADERS, followedHops, followHop, type Grant, redirectTarget } from '../src/adapter/index.js'

const from = { method: 'POST', url: 'https://api.test/orders?x=1' }

describe('redirectTarget (Fetch standard HTTP-redirect rules)', () => {
  it('resolves a relative Location against the request URL and keeps the method and body on 307/308', () => {
    for (const status of [307, 308]) {
      const next = redirectTarget(from, status, '/v2/orders?y=2')
      expect(next).toMatchObject({ method: 'POST', keepsBody: true, dropsHeaders: [], sameOrigin: true })
      expect(next?.url.href).toBe('https://api.test/v2/orders?y=2')
    }
  })

  it('turns a POST into a GET without body (nor the headers that describe it) on 301/302, and anything but GET/HEAD on 303', () => {
    expect(redirectTarget(from, 301, '/a')).toMatchObject({ method: 'GET', keepsBody: false })
    expect(redirectTarget(from, 301, '/a')?.dropsHeaders).toEqual(BODY_HEADERS)
    expect(redirectTarget(from, 302, '/a')).toMatchObject({ method: 'GET', keepsBody: false })
    expect(redirectTarget({ ...from, method: 'PUT' }, 302, '/a')).toMatchObject({
      method: 'PUT',
      keepsBody: true,
    })
    expect(redirectTarget({ ...from, method: 'DELETE' }, 303, '/a')).toMatchObject({
      method: 'GET',
      keepsBody: false,
    })
    expect(redirectTarget({ ...from, method: 'HEAD' }, 303, '/a')).toMatchObject({ method: 'HEAD' })
  })

  it('says whether the target is the credentials’ origin, also after the chain left it', () => {
    expect(redirectTarget(from, 302, 'https://other.test/x')?.sameOrigin).toBe(false)
    expect(redirectTarget(from, 302, 'http://api.test/x')?.sameOrigin).toBe(false)
    const away = { method: 'GET', url: 'https://other.test/x' }
    expect(redirectTarget(away, 302, 'https://api.test/back', 'https://api.test')?.sameOrigin).toBe(true)
    expect(redirectTarget(away, 302, '/stay', 'https://api.test')?.sameOrigin).toBe(false)
  })

  it('is undefined for no redirect, no or a bad Location, or a scheme other than http(s)', () => {
    expect(redirectTarget(from, 200, '/a')).toBeUndefined()
    expect(redirectTarget(from, 304, '/a')).toBeUndefined()
    expect(redirectTarget(from, 302, null)).toBeUndefined()
    expect(redirectTarget(from, 302, 'http://[bad')).toBeUndefined()
    expect(redirectTarget(from, 302, 'file:///etc/passwd')).toBeUndefined()
    expect(redirectTarget(from, 302, ['/first', '/second'])?.url.pathname).toBe('/first')
  })
})

describe('followHop (a hop follow-redirects shows its beforeRedirect hook)', () => {
  const bearer = { authorization: 'Bearer t', dpop: false } as Grant
  const left = { authorization: undefined, dpop: false } as Grant
  const hop = (href: string) => ({ href, headers: { Authorization: 'Bearer t', dpop: 'p', Accept: '*/*' } })

  it('takes Authorization and DPoP off, in any case, when the grant for the hop carries no token', () => {
    const away = hop('https://sub.api.test/x')
    followHop(away, left)
    expect(away.headers).toEqual({ Accept: '*/*' })
    const home = hop('https://api.test/y')
    followHop(home, bearer)
    expect(home.headers).toEqual({ Authorization: 'Bearer t', dpop: 'p', Accept: '*/*' })
    const signing = hop('https://api.test/z') // a proof still to sign: too late for a synchronous hook
    followHop(signing, Promise.resolve(bearer))
    expect(signing.headers).toEqual({ Accept: '*/*' })
  })

  it('records every hop of a chain on its one options object', () => {
    const chain = hop('https://api.test/a')
    expect(followedHops(chain)).toBeUndefined()
    followHop(chain, bearer)
    chain.href = 'https://other.test/b'
    followHop(chain, left)
    expect(followedHops(chain)).toEqual(['https://api.test/a', 'https://other.test/b'])
    expect(followedHops(undefined)).toBeUndefined()
  })
})
