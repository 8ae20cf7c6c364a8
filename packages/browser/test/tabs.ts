import {
  type BroadcastChannelLike,
  type BrowserTokenStoreOptions,
  createBrowserTokenStore,
} from '@tokenwell/browser'
import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { createLockRegistry } from './fake-locks.js'

export const tokenEndpoint = 'https://as.test/token'
let run = 0

/**
 * Token endpoint: counts requests; rotates refresh tokens and rejects spent ones (RFC 6749 §10.4),
 * counting how often each refresh token was redeemed. `gate` holds every answer until it resolves.
 */
export function mockTokenEndpoint(options: { refreshTokens?: Set<string>; gate?: () => Promise<void> } = {}) {
  const state = { hits: 0, invalidGrants: 0, redeemed: new Map<string, number>() }
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const n = ++state.hits
      const form = new URLSearchParams(await request.text())
      await options.gate?.()
      const body: Record<string, unknown> = { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 300 }
      if (form.get('grant_type') === 'refresh_token') {
        const used = form.get('refresh_token') ?? ''
        state.redeemed.set(used, (state.redeemed.get(used) ?? 0) + 1)
        if (!options.refreshTokens!.delete(used)) {
          state.invalidGrants++
          return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
        }
        body['refresh_token'] = `rt-${n}`
        options.refreshTokens!.add(body['refresh_token'] as string)
      }
      return HttpResponse.json(body)
    }),
  )
  return state
}

/**
 * BroadcastChannels whose messages reach the tab `late.by` ms after they were sent (a loaded
 * machine, a busy tab), in the order sent; none at all while `late.deaf` (a tab that hangs).
 */
export function slowChannel(late: { by: number; deaf?: boolean }) {
  return (name: string): BroadcastChannelLike => {
    const channel = new BroadcastChannel(name)
    let open = true
    const hear = (listener: (event: MessageEvent) => void, event: MessageEvent) => open && listener(event)
    return {
      postMessage: (message) => channel.postMessage(message),
      addEventListener: (type, listener) =>
        channel.addEventListener(type, (event) => {
          if (late.deaf) return
          if (late.by === 0) hear(listener, event)
          else setTimeout(() => hear(listener, event), late.by).unref()
        }),
      close: () => {
        open = false
        channel.close()
      },
    }
  }
}

export interface Tab {
  provider: TokenProvider
  store: ReturnType<typeof createBrowserTokenStore>
  /** Closes the tab as a browser does: its locks are freed and it leaves the channel. */
  close(): void
}

/**
 * Tabs of one origin, in Node: one lock registry (the origin's Web Locks) and one BroadcastChannel
 * name; each tab has its own provider, store and lock client, as a browser tab would.
 */
export function createOrigin(providerOptions: Partial<TokenProviderOptions> = {}) {
  const locks = createLockRegistry()
  const name = `origin-${++run}`
  const clientId = `spa-${run}`
  const open: Tab[] = []
  return {
    locks,
    tab(storeOptions: BrowserTokenStoreOptions = {}, overrides: Partial<TokenProviderOptions> = {}): Tab {
      const client = locks.tab()
      const store = createBrowserTokenStore({ name, locks: client, askTimeout: 50, ...storeOptions })
      const provider = createTokenProvider({
        tokenEndpoint,
        clientId,
        clientAuth: 'none',
        refreshAhead: false,
        store,
        ...providerOptions,
        ...overrides,
      })
      const tab = {
        provider,
        store,
        close() {
          store.close()
          client.close()
        },
      }
      open.push(tab)
      return tab
    },
    tabs(count: number, storeOptions: BrowserTokenStoreOptions = {}) {
      return Array.from({ length: count }, () => this.tab(storeOptions))
    },
    closeAll() {
      for (const tab of open) tab.close()
    },
  }
}
