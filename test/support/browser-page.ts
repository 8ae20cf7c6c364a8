// The page the Chromium tests load: an app built from @tokenwell/core, @tokenwell/fetch and
// @tokenwell/browser, bundled by esbuild in the test. It exposes a small API for page.evaluate.
import { createBrowserTokenStore } from '@tokenwell/browser'
import {
  buildAuthorizationUrl,
  createPkcePair,
  createTokenProvider,
  type Grant,
  parseAuthorizationResponse,
  randomUrlSafe,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { withOAuth2 } from '@tokenwell/fetch'

export interface StartOptions {
  clientId: string
  clientSecret?: string
  grant?: Grant
  lockTtl?: number
  refreshSkew?: number
}

export interface CallResult {
  status: number
  body?: unknown
  error?: string
}

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
    const provider = createTokenProvider({
      tokenEndpoint: `${location.origin}/as/token`,
      clientId: options.clientId,
      ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
      clientAuth: options.clientSecret === undefined ? 'none' : 'client_secret_basic',
      ...(options.grant !== undefined && { grant: options.grant }),
      ...(options.lockTtl !== undefined && { lockTtl: options.lockTtl }),
      ...(options.refreshSkew !== undefined && { refreshSkew: options.refreshSkew }),
      refreshAhead: false,
      retry: false,
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
