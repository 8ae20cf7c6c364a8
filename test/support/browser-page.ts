// The page the Chromium tests load: an app built from @tokenwell/core, @tokenwell/fetch and
// @tokenwell/browser, bundled by esbuild in the test. It exposes a small API for page.evaluate.
import { createBrowserTokenStore } from '@tokenwell/browser'
import { createTokenProvider, type Grant } from '@tokenwell/core'
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

const app = {
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
