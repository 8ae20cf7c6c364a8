import {
  createMemoryTokenStore,
  createTokenProvider,
  type Token,
  type TokenProvider,
  type TokenStore,
} from '@tokenwell/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fleetStore } from '../packages/core/test/support/fake-fleet.js'
import { firstRefreshToken, useServers } from './support/servers.js'

// Rules 1, 4 and "nothing is lost", counted at the mock server (rotation, reuse detection): two
// providers given one refresh token (two scopes, or one) run random sequences of calls, forced
// refreshes, 401-style invalidations (current and stale tokens), aborted waits and restarts (a
// new provider given the original refresh token, adopting the store's), against a server that
// slows down, refuses (503, 500, 429, 400) and loses answers after redeeming them, over a store
// that fails or answers late. No refresh token is ever redeemed twice, and unless an answer was
// lost after the server redeemed it, both providers get a token once the faults are over.
const servers = useServers()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Op =
  | { op: 'get' | 'force' | 'invalidate' | 'stale' | 'restart'; p: number }
  | { op: 'abort'; p: number; after: number }
  | { op: 'sleep' | 'latency'; ms: number }
  | { op: 'lose'; how: 'reset' | '502' | 'cut' }
  | { op: 'refuse'; status: number }

const ops: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('get', 'force', 'invalidate', 'stale', 'restart'), p: fc.nat(1) }),
  fc.record({ op: fc.constant('abort'), p: fc.nat(1), after: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ op: fc.constant('sleep'), ms: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ op: fc.constant('latency'), ms: fc.constantFrom(0, 20, 80, 200) }),
  fc.record({ op: fc.constant('lose'), how: fc.constantFrom('reset', '502', 'cut') }),
  fc.record({ op: fc.constant('refuse'), status: fc.constantFrom(503, 500, 429, 400) }),
) as fc.Arbitrary<Op>

/** `base`, each of whose calls fails or answers up to 150 ms late now and then while `flaky.on`. */
function flakyStore(base: TokenStore, flaky: { on: boolean }, seed: number): TokenStore {
  let state = seed
  const random = () => {
    state = (state * 48_271) % 2_147_483_647
    return state / 2_147_483_647
  }
  return new Proxy(base, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const roll = flaky.on ? random() : 1
        if (roll < 0.15) throw new Error('store unavailable')
        if (roll < 0.35) await sleep(Math.floor(random() * 150))
        return (value as (...args: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

const STORES = {
  'one memory store': () => createMemoryTokenStore(),
  'a flaky shared store (a memory store standing for Redis)': () => ({ ...createMemoryTokenStore() }),
  'a flaky fleet store': () => fleetStore(() => Date.now()),
} as const

describe('random lifecycles of two providers given one refresh token', () => {
  it.each(Object.keys(STORES) as (keyof typeof STORES)[])(
    '%s: every refresh token redeemed once, nothing lost',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(ops, { minLength: 5, maxLength: 20 }),
          fc.boolean(),
          fc.constantFrom(1, 2, 3),
          fc.integer({ min: 1, max: 2_000_000 }),
          async (script, sameScope, lifetime, seed) => {
            servers.auth.setTokenLifetime(lifetime)
            const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
            servers.auth.stats.reset()
            let lose: Op | undefined
            let lost = 0
            const fetchLosing = async (request: Request) => {
              const answer = await fetch(request)
              const how = lose?.op === 'lose' ? lose.how : undefined
              lose = undefined
              if (how === undefined) return answer
              lost++
              if (how === 'reset')
                throw new TypeError('fetch failed', {
                  cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
                })
              if (how === '502') return new Response('<h1>502 Bad Gateway</h1>', { status: 502 })
              return new Response((await answer.text()).slice(0, 10), { status: 200 })
            }
            const flaky = { on: kind !== 'one memory store' }
            const store = flakyStore(STORES[kind](), flaky, seed)
            const make = (i: number): TokenProvider =>
              createTokenProvider({
                tokenEndpoint: servers.auth.tokenEndpoint,
                clientId: 'demo-client',
                clientSecret: 'demo-secret',
                grant: { type: 'refresh_token', refreshToken },
                scope: sameScope || i === 0 ? 'orders:read' : 'orders:write',
                store,
                fetch: fetchLosing,
                timeout: 100,
                retry: { attempts: 2, minDelay: 5, maxDelay: 10, deadline: 300 },
                failureCooldown: 0,
                lockTtl: 300,
              })
            const providers = [make(0), make(1)]
            const retired: TokenProvider[] = []
            const seen: (Token | undefined)[] = [undefined, undefined]
            const pending: Promise<unknown>[] = []
            const track = (i: number, call: Promise<Token>) =>
              pending.push(call.then((token) => (seen[i] = token)).catch(() => {}))
            for (const step of script) {
              const p = 'p' in step ? providers[step.p]! : undefined
              if (step.op === 'get') track(step.p, p!.getToken())
              else if (step.op === 'force') track(step.p, p!.getToken({ forceRefresh: true }))
              else if (step.op === 'invalidate' || step.op === 'stale') {
                const token = step.op === 'stale' ? seen[step.p] : p!.peekToken()
                if (token) pending.push(p!.invalidate(token))
              } else if (step.op === 'abort') {
                const controller = new AbortController()
                track(step.p, p!.getToken({ signal: controller.signal }))
                setTimeout(() => controller.abort(), step.after)
              } else if (step.op === 'restart') {
                retired.push(p!)
                providers[step.p] = make(step.p)
              } else if (step.op === 'sleep') await sleep(step.ms)
              else if (step.op === 'latency') servers.auth.setLatency(step.ms)
              else if (step.op === 'lose') lose = step
              else if (step.op === 'refuse') servers.auth.failNext(1, { status: step.status })
            }
            await Promise.all(pending)
            await sleep(700) // every answer a caller gave up on is in
            servers.auth.setLatency(0)
            servers.auth.clearFaults()
            flaky.on = false
            const last = await Promise.all(
              providers.map((p) =>
                p.getToken({ forceRefresh: true }).then(
                  () => 'token',
                  (error: { code?: string }) => error.code,
                ),
              ),
            )
            await Promise.all([...providers, ...retired].map((p) => p.close()))
            expect(servers.auth.stats.refreshTokenReuse).toBe(0)
            expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
            if (lost === 0) expect(last).toEqual(['token', 'token'])
          },
        ),
        { numRuns: 6 },
      )
    },
    120_000,
  )
})
