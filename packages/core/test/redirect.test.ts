import { describe, expect, it } from 'vitest'
import {
  BODY_HEADERS,
  ChainedSend,
  type ClientShape,
  DispatchChains,
  followedHops,
  followHop,
  type Grant,
  redirectTarget,
} from '../src/adapter/index.js'
import type { RequestProtocol } from '../src/adapter/request-protocol.js'
import { DpopError } from '../src/errors.js'

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

describe('DispatchChains (interceptors that send every hop and attempt through the adapter again)', () => {
  type Req = { url: string; method: string }
  type Res = { status: number; location?: string }
  const shape: ClientShape<Req, Res> = {
    url: (r) => r.url,
    method: (r) => r.method,
    base: () => undefined,
    ownCredentials: () => false,
    status: (s) => s.status,
    header: (s, name) => (name === 'location' ? s.location : undefined),
  }
  const token = { accessToken: 't', tokenType: 'Bearer' } as Grant['token']
  const grant = { token, origin: 'https://api.test', authorization: 'Bearer t', dpop: false } as Grant
  const started: Req[] = []
  const protocol = {
    begin(r: Req) {
      started.push(r)
      return r.url.startsWith('https://api.test') ? grant : undefined
    },
    again: (g: Grant, r: Req) => (r.url.startsWith(g.origin) ? g : { ...g, authorization: undefined }),
    onResponse: () => undefined,
    scrub: <E>(e: E) => e,
  } as unknown as RequestProtocol<Req, Res>
  const chains = new DispatchChains<Req, Res, object>(protocol, shape, (r) => r.url.endsWith('/token'))
  const get = (url: string) => ({ url, method: 'GET' })

  it('begins a new request, and lets the provider’s own request and a refusal through as it is', () => {
    expect(chains.step(get('https://api.test/a'), {})).toBe(grant)
    expect(chains.step(get('https://api.test/token'), {})).toBeUndefined()
    const refusing = new DispatchChains<Req, Res, object>(
      {
        ...protocol,
        begin: () => {
          throw new Error('insecure')
        },
      },
      shape,
      () => false,
    )
    return expect(refusing.step(get('http://api.test/a'), {})).rejects.toThrow('insecure')
  })

  it('sends a redirect’s hop, made anew while its end is handed on, in the chain: none into the API from elsewhere', () => {
    started.length = 0
    for (const [from, first] of [
      ['https://other.test/x', undefined],
      ['https://api.test/x', grant],
    ] as const) {
      const send = new ChainedSend(chains, get(from), {}, (chains.step(get(from), {}) as Grant) ?? false)
      expect(send.grant || undefined).toBe(first)
      expect(send.respond({ status: 302, location: 'https://api.test/in?q=1' })).toBeUndefined()
      let hop: unknown = 'unset'
      send.ended(() => {
        hop = chains.step(get('https://api.test/in?q=1'), {}) // a new handler: an interceptor in between
      })
      expect(hop).toBe(first) // the chain's own grant (through again), or nothing
      expect(chains.step(get('https://api.test/in?q=1'), {})).toBe(grant) // after the end: a new request
    }
    // only the first sends and the sends after a redirect's end began: no hop did
    expect(started.map((r) => r.url)).toEqual([
      'https://other.test/x',
      'https://api.test/in?q=1',
      'https://api.test/x',
      'https://api.test/in?q=1',
    ])
  })

  it('keeps a handler’s chain for its next attempt, and refuses a hop followed inside it with a DPoP proof', () => {
    const handler = {}
    const send = new ChainedSend(chains, get('https://other.test/x'), handler, false)
    expect(send.errored(new Error('reset'))).toEqual(new Error('reset'))
    expect(chains.step(get('https://api.test/x'), handler)).toBeUndefined() // retried: still none
    const proved = new ChainedSend(
      chains,
      get('https://api.test/x'),
      {},
      { ...grant, proof: 'p', dpop: true },
    )
    expect(proved.started(undefined)).toBeUndefined()
    expect(proved.started(['https://api.test/x', 'https://other.test/y'])).toBeInstanceOf(DpopError)
    expect(
      new ChainedSend(chains, get('https://api.test/x'), {}, grant).started(['https://api.test/y']),
    ).toBeUndefined()
  })
})
