import { describe, expect, it } from 'vitest'
import {
  createGrantLedger,
  createHookChain,
  endingWith,
  hooksAfter,
  keepsGrant,
  pinEnding,
  putGrantHeaders,
  runFirst,
  runLast,
} from '../src/adapter/index.js'
import { createGrant, type Grant } from '../src/adapter/shape.js'
import type { Token } from '../src/token.js'

const API = 'https://api.example.com'
const grantOf = (fields: Partial<Grant> = {}): Grant =>
  createGrant({
    token: { accessToken: 'tok-SECRET', tokenType: 'Bearer' } as Token,
    origin: API,
    authorization: 'Bearer tok-SECRET',
    proof: undefined,
    dpop: false,
    replayed: false,
    ...fields,
  })

describe('keepsGrant', () => {
  it('keeps the headers on a URL of the origin, in any spelling the URL parser reads as it', () => {
    const headers = { authorization: 'Bearer tok-SECRET' }
    expect(keepsGrant(`${API}/x`, grantOf(), headers)).toBe(true)
    expect(keepsGrant(new URL('HTTPS://API.example.com:443/y'), grantOf(), headers)).toBe(true)
    expect(headers).toEqual({ authorization: 'Bearer tok-SECRET' })
  })

  it('takes the token and proof off a request moved to another origin; a header of the caller’s stays', () => {
    const proof = grantOf({ authorization: 'DPoP tok-SECRET', proof: 'proof-1', dpop: true })
    const record = { authorization: 'DPoP tok-SECRET', dpop: 'proof-1', accept: '*/*' }
    expect(keepsGrant('https://api.example.com.evil.test/x', proof, record)).toBe(false)
    expect(record).toEqual({ accept: '*/*' })
    const headers = new Headers({ authorization: 'Basic b3du' })
    expect(keepsGrant('https://evil.test/', grantOf(), headers)).toBe(false)
    expect(headers.get('authorization')).toBe('Basic b3du')
    expect(keepsGrant('not a url', grantOf(), new Headers())).toBe(false)
  })

  it('a grant that sends nothing has nothing to check', () => {
    expect(keepsGrant('https://evil.test/', grantOf({ authorization: undefined }), {})).toBe(true)
  })
})

describe('putGrantHeaders', () => {
  it('replaces the values the send before put; a header that changed since is the caller’s and stays', () => {
    const before = grantOf({ authorization: 'DPoP tok-SECRET', proof: 'proof-1', dpop: true })
    const headers: Record<string, unknown> = { authorization: 'DPoP tok-SECRET', dpop: 'proof-1' }
    putGrantHeaders(headers, grantOf({ authorization: undefined }), before)
    expect(headers).toEqual({})
    const own = { authorization: 'Basic b3du', dpop: 'proof-1' }
    putGrantHeaders(own, grantOf({ authorization: undefined }), before)
    expect(own).toEqual({ authorization: 'Basic b3du' })
  })
})

describe('createGrantLedger', () => {
  it('a request built from an authorized one keeps our values only on an origin they were put there for', () => {
    const ledger = createGrantLedger()
    const grant = grantOf({ authorization: 'DPoP tok-SECRET', proof: 'proof-1', dpop: true })
    ledger.note(grant)
    const headers = { authorization: 'DPoP tok-SECRET', dpop: 'proof-1' }
    const onApi = new Request(`${API}/other`, { headers })
    expect(ledger.screen(onApi)).toBe(grant) // sent as that grant's: its redirects and proof are ours
    expect([...onApi.headers]).toHaveLength(2)
    const away = new Request('https://evil.test/', { headers })
    expect(ledger.screen(away)).toBeUndefined()
    expect([...away.headers]).toEqual([])
    const own = new Request('https://evil.test/', { headers: { authorization: 'Basic b3du' } })
    expect(ledger.screen(own)).toBeUndefined()
    expect(own.headers.get('authorization')).toBe('Basic b3du')
  })

  it('our proof beside the caller’s own Authorization is taken off, on the API too', () => {
    const ledger = createGrantLedger()
    ledger.note(grantOf({ authorization: 'DPoP tok-SECRET', proof: 'proof-1', dpop: true }))
    const request = new Request(`${API}/x`, { headers: { authorization: 'Bearer theirs', dpop: 'proof-1' } })
    expect(ledger.screen(request)).toBeUndefined()
    expect([...request.headers]).toEqual([['authorization', 'Bearer theirs']])
  })
})

describe('runLast and endingWith', () => {
  it('runLast keeps one copy of the hook at the end of the list, however often a retry copies it', () => {
    const ours = () => {}
    const guard = () => {}
    const theirs = () => {}
    const hooks = [ours, theirs]
    for (let send = 0; send < 3; send++) runLast(hooks, guard, ours)
    expect(hooks).toEqual([ours, theirs, guard])
    const copied = [...hooks, () => {}] // a hook added after the guard
    runLast(copied, guard, ours)
    expect(copied.filter((hook) => hook === guard)).toHaveLength(1)
    expect(copied.at(-1)).toBe(guard)
    const alone = [ours] // nothing runs after ours: nothing to guard
    runLast(alone, guard, ours)
    expect(alone).toEqual([ours])
  })

  it('runFirst moves the hook to the front once, and adds it to a list without it', () => {
    const ours = () => {}
    const theirs = () => {}
    const hooks = [theirs, ours]
    for (let send = 0; send < 3; send++) runFirst(hooks, ours)
    expect(hooks).toEqual([ours, theirs])
    const without = [theirs]
    runFirst(without, ours)
    expect(without).toEqual([ours, theirs])
  })

  it('endingWith never changes a list, ends it by calling last with what the caller’s last function returned, makes one list per function for copies of a list of one, and leaves one that already ends so', () => {
    const calls: string[] = []
    const transform = (name: string) =>
      function (this: { id: string }, data: string, headers: string) {
        calls.push(`${name}(${data}, ${headers}) on ${this.id}`)
        return `${data}+${name}`
      }
    const last = transform('last')
    const first = transform('first')
    const shared = [first]
    const lastOf = endingWith(last)
    // axios's transformData: each in turn, the config as `this`, the data the one before returned
    const run = (list: readonly ((this: { id: string }, data: string, headers: string) => string)[]) => {
      calls.length = 0
      return list.reduce((data, fn) => fn.call({ id: 'config' }, data, 'h'), 'data')
    }
    const copy = lastOf(shared)
    expect(shared).toEqual([first])
    expect(copy).toHaveLength(1) // axios normalizes the headers before each function: no function more
    expect(run(copy)).toBe('data+first+last')
    expect(calls).toEqual(['first(data, h) on config', 'last(data+first, h) on config'])
    expect(lastOf([...shared])).toBe(copy) // axios hands each request its own copy of its defaults' list
    expect(lastOf(first)).toBe(copy)
    expect(lastOf(copy)).toBe(copy)
    expect(lastOf(undefined)).toEqual([last])
    expect(lastOf([])).toEqual([last])
    const second = transform('second')
    const two = [first, second]
    expect(run(lastOf(two))).toBe('data+first+second+last')
    expect(two).toEqual([first, second])
    // a hook that put a function of its own after ours (a copy of the list): ours moves to the end, once
    const after = transform('after')
    expect(run(lastOf([...copy, after]))).toBe('data+first+after+last')
    expect(run(lastOf([last, after]))).toBe('data+after+last')
  })
})

describe('pinEnding', () => {
  it('ends the list with last, pinned (a list set anew keeps it last) or, without pin, as a plain property made once per list', () => {
    const last = (data: string) => `${data} last`
    const theirs = (data: string) => `${data}theirs`
    const pinned: Record<string, unknown> = { list: [theirs] }
    pinEnding(pinned, 'list', last)
    pinned['list'] = [theirs]
    const ran = (list: unknown) => (list as ((data: string) => string)[]).reduce((data, fn) => fn(data), '')
    expect(ran(pinned['list'])).toBe('theirs last')
    expect(() => delete pinned['list']).toThrow(TypeError)
    const shared = [theirs]
    const plain = [{ list: [...shared] }, { list: [...shared] }]
    for (const target of plain) pinEnding(target, 'list', last, false)
    expect(ran(plain[0]!.list)).toBe('theirs last')
    expect(plain[1]!.list).toBe(plain[0]!.list) // the hot path: nothing made per request
    expect(Object.getOwnPropertyDescriptor(plain[0], 'list')).toMatchObject({ writable: true })
  })
})

describe('hooksAfter', () => {
  it('is true only for a live interceptor added before ours (axios runs it after ours)', () => {
    const hook = { fulfilled: () => {} }
    expect(hooksAfter([{}, hook], 0)).toBe(false) // only ours, and one added after it
    expect(hooksAfter([hook, {}], 1)).toBe(true)
    expect(hooksAfter([null, {}], 1)).toBe(false) // ejected
    expect(hooksAfter(null, 3)).toBe(false) // handlers replaced by user code
  })
})

describe('createHookChain', () => {
  it('runs ours, then the caller’s hook; wrapping one of ours again grows no chain', () => {
    const calls: string[] = []
    const chain = createHookChain<[string]>((grant, hop) => calls.push(`ours ${grant.origin} ${hop}`))
    const grant = grantOf()
    const theirs = (hop: string) => void calls.push(`theirs ${hop}`)
    const once = chain(grant, theirs)
    const twice = chain(grant, once)
    twice('a')
    expect(calls).toEqual([`ours ${API} a`, 'theirs a'])
    expect(chain(grant, undefined)).toBe(chain(grant, undefined))
  })
})
