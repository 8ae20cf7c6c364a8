import { oauth2Interceptor } from '@tokenwell/axios'
import type { TokenProvider } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import { oauth2 } from '@tokenwell/undici'
import axios from 'axios'
import got from 'got'
import ky from 'ky'
import { Agent, request } from 'undici'

/** GETs `path` (relative to the API's URL) through an adapter; resolves to the final HTTP status. */
export type DemoGet = (path: string) => Promise<number>

/** One HTTP client and its tokenwell adapter, as the demo drives it. */
export interface DemoClient {
  /** Short name for the report: `axios`. */
  readonly name: string
  /** The adapter call, for the report: `oauth2Interceptor(axios.create(), provider)`. */
  readonly adapter: string
  /** Wires the adapter to `provider` for requests to `apiUrl`. */
  create(provider: TokenProvider, apiUrl: string): DemoGet
}

/** The five adapters the demo runs, each as its README shows it. */
export const DEMO_CLIENTS: readonly DemoClient[] = [
  {
    name: 'axios',
    adapter: 'oauth2Interceptor(axios.create({ baseURL }), provider)',
    create(provider, baseURL) {
      const api = axios.create({ baseURL })
      oauth2Interceptor(api, provider)
      return (path) =>
        api.get(path).then(
          (response) => response.status,
          (error: { response?: { status: number } }) => error.response?.status ?? 0,
        )
    },
  },
  {
    name: 'got',
    adapter: 'got.extend(oauth2Hooks(provider), { prefixUrl })',
    create(provider, prefixUrl) {
      // got's own retries off, so every request the API counts is the adapter's doing
      const api = got.extend(oauth2Hooks(provider), { prefixUrl, retry: { limit: 0 } })
      return (path) =>
        api.get(path.replace(/^\//, '')).then(
          (response) => response.statusCode,
          (error: { response?: { statusCode: number } }) => error.response?.statusCode ?? 0,
        )
    },
  },
  {
    name: 'fetch',
    adapter: 'withOAuth2(provider)',
    create(provider, apiUrl) {
      const authFetch = withOAuth2(provider)
      return async (path) => {
        const response = await authFetch(`${apiUrl}${path}`)
        await response.arrayBuffer()
        return response.status
      }
    },
  },
  {
    name: 'undici',
    adapter: 'new Agent().compose(oauth2(provider, { match }))',
    create(provider, apiUrl) {
      const dispatcher = new Agent().compose(oauth2(provider, { match: new URL(apiUrl).origin }))
      return async (path) => {
        const response = await request(`${apiUrl}${path}`, { dispatcher })
        await response.body.dump()
        return response.statusCode
      }
    },
  },
  {
    name: 'ky',
    adapter: 'ky.create({ prefixUrl, ...oauth2Hooks(provider) })',
    create(provider, prefixUrl) {
      // ky's own retries off, so every request the API counts is the adapter's doing
      const api = ky.create({ prefixUrl, retry: 0, throwHttpErrors: false, ...kyHooks(provider) })
      return async (path) => {
        const response = await api.get(path.replace(/^\//, ''))
        await response.arrayBuffer()
        return response.status
      }
    },
  },
]
