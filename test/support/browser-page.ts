// The page the Chromium tests load: an app built from @tokenwell/core, @tokenwell/fetch,
// @tokenwell/axios (axios's browser build: XHR) and @tokenwell/browser, bundled by esbuild in the
// test. It exposes a small API for page.evaluate.
import { oauth2Interceptor } from '@tokenwell/axios'
import { createBrowserTokenStore } from '@tokenwell/browser'
import {
  buildAuthorizationUrl,
  createPkcePair,
  createTokenProvider,
  type Grant,
  parseAuthorizationResponse,
  randomUrlSafe,
  type TokenProvider,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import axios from 'axios'

export interface StartOptions {
  clientId: string
  clientSecret?: string
  grant?: Grant
  lockTtl?: number
  refreshSkew?: number
  /** The provider's `timeout`, ms, and `retry` (none by default). */
  timeout?: number
  retry?: { attempts: number; deadline: number }
  /** DPoP-bound tokens (a key made in the page). */
  dpop?: boolean
}

/** One call through an adapter: `fetch` (`withOAuth2`) or `axios` (an instance with `baseURL`). */
export interface SendOptions {
  client: 'fetch' | 'axios'
  url: string
  baseURL?: string
  method?: string
}

export interface CallResult {
  status: number
  body?: unknown
  error?: string
  /** The URL the response came from (after redirects). */
  url?: string
}

let provider: TokenProvider | undefined
let api: ((input: string, init?: RequestInit) => Promise<Response>) | undefined

/** The README's browser quick start, as written there (issuer: this origin's `/as`). */
function quickStart(clientId: string) {
  const issuer = `${location.origin}/as`
  const redirectUri = `${location.origin}/callback`
  const scope = 'openid offline_access orders:read'
  const store = createBrowserTokenStore({ session: clientId })
  const common = { issuer, discovery, clientId, clientAuth: 'none', scope, store } as const
  return {
    async signIn(): Promise<void> {
      const { codeVerifier, codeChallenge } = await createPkcePair()
      const state = randomUrlSafe()
      sessionStorage.setItem('tokenwell:pkce', JSON.stringify({ state, codeVerifier }))
      location.assign(
        await buildAuthorizationUrl({
          discovery,
          issuer,
          clientId,
          redirectUri,
          scope,
          state,
          codeChallenge,
        }),
      )
    },
    /** Which way this tab got its provider: from the code, from the open tabs, or none (sign in). */
    async resume(): Promise<'callback' | 'shared' | 'none'> {
      if (location.pathname === '/callback') {
        const { state, codeVerifier } = JSON.parse(sessionStorage.getItem('tokenwell:pkce') ?? '{}')
        sessionStorage.removeItem('tokenwell:pkce')
        const { code } = parseAuthorizationResponse(location.search, { state, issuer })
        history.replaceState(null, '', '/')
        const provider = createTokenProvider({
          ...common,
          grant: { type: 'authorization_code', code, redirectUri, codeVerifier },
        })
        await provider.getToken()
        api = withOAuth2(provider, { match: location.origin })
        return 'callback'
      }
      const refreshToken = await store.sessionRefreshToken()
      if (refreshToken === undefined) return 'none'
      const provider = createTokenProvider({ ...common, grant: { type: 'refresh_token', refreshToken } })
      api = withOAuth2(provider, { match: location.origin })
      return 'shared'
    },
  }
}

const app = {
  quickStart,
  start(options: StartOptions) {
    const store = createBrowserTokenStore()
    provider = createTokenProvider({
      tokenEndpoint: `${location.origin}/as/token`,
      clientId: options.clientId,
      ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
      clientAuth: options.clientSecret === undefined ? 'none' : 'client_secret_basic',
      ...(options.grant !== undefined && { grant: options.grant }),
      ...(options.lockTtl !== undefined && { lockTtl: options.lockTtl }),
      ...(options.refreshSkew !== undefined && { refreshSkew: options.refreshSkew }),
      ...(options.dpop === true && { dpop: createDpop() }),
      refreshAhead: false,
      retry: options.retry ?? false,
      ...(options.timeout !== undefined && { timeout: options.timeout }),
      store,
    })
    api = withOAuth2(provider, { match: location.origin })
    return store.shared
  },
  /** `count` concurrent calls to the protected API; failures are results, never rejections. */
  async calls(count: number, path: string, init?: RequestInit): Promise<CallResult[]> {
    const one = async (): Promise<CallResult> => {
      try {
        const response = await api!(`${location.origin}/api${path}`, init)
        return { status: response.status, body: await response.json().catch(() => undefined) }
      } catch (error) {
        return { status: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : 'error' }
      }
    }
    return Promise.all(Array.from({ length: count }, one))
  },
  /** The document's `<base href>` (as a markup injection can set it), or none. */
  setBase(href: string | null) {
    document.querySelector('base')?.remove()
    if (href === null) return document.baseURI
    const base = document.createElement('base')
    base.href = href
    document.head.prepend(base)
    return document.baseURI
  },
  /** One call through the fetch adapter (`match`: this page's origin) or a new axios instance. */
  async send({ client, url, baseURL, method = 'GET' }: SendOptions): Promise<CallResult> {
    try {
      if (client === 'fetch') {
        const response = await api!(url, { method })
        return {
          status: response.status,
          url: response.url,
          body: await response.json().catch(() => undefined),
        }
      }
      const instance = axios.create({ ...(baseURL !== undefined && { baseURL }), validateStatus: () => true })
      oauth2Interceptor(instance, provider!)
      const response = await instance.request({ url, method })
      const xhr = response.request as XMLHttpRequest
      return { status: response.status, url: xhr.responseURL, body: response.data }
    } catch (error) {
      return { status: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : 'error' }
    }
  },
  /** A control action of the mock server, from this page (same origin, or `origin` for CORS). */
  async control(method: string, action: string, body?: unknown, origin = location.origin) {
    const response = await fetch(`${origin}/as/_control/${action}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: await response.json() }
  },
}

Object.assign(globalThis, { app })
export type PageApp = typeof app
