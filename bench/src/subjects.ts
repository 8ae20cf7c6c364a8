import { Agent as HttpAgent } from 'node:http'
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import { oauth2 } from '@tokenwell/undici'
import axios, { type AxiosInstance, isAxiosError } from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'
import { clientCredentials } from 'axios-oauth-client'
import tokenInterceptor from 'axios-token-interceptor'
import got, { type Got, HTTPError } from 'got'
import ky, { type KyInstance } from 'ky'
import {
  type Dispatcher,
  getGlobalDispatcher,
  request,
  setGlobalDispatcher,
  Agent as UndiciAgent,
} from 'undici'
import { type BenchClientId, secretOf } from './servers.js'

/** One way of calling the protected API, set up as its documentation says. */
export interface Subject {
  /**
   * `GET /data` through the client under test, body read; resolves to the final HTTP status
   * (what the caller ends up with, after any refresh and replay). Rejects on network errors.
   */
  request(): Promise<number>
  close(): Promise<void>
  /**
   * tokenwell only: how many requests so far found no usable token and waited for a token
   * request (counted in the provider, where `peekToken()` came back empty).
   */
  tokenWaits?(): number
}

export interface SubjectEnv {
  readonly tokenEndpoint: string
  readonly issuer: string
  readonly apiUrl: string
  /** Sockets per agent (API and token requests); fetch's come from `useFetchPool()`. */
  readonly connections: number
  /** Replace a token this many ms before it expires (for libraries that have such a setting). */
  readonly refreshSkew?: number | undefined
  /** The token a bare client sends as a static header. */
  readonly staticToken?: string | undefined
}

export type HttpClient = 'axios' | 'got' | 'fetch' | 'undici' | 'ky'

export interface SubjectSpec {
  /** Stable id in results.json. */
  readonly id: string
  /** Name shown in tables. */
  readonly label: string
  readonly client: HttpClient
  readonly kind: 'bare' | 'baseline' | 'tokenwell' | 'peer'
  /** The OAuth client it authenticates as, so the server counts its token requests apart. */
  readonly clientId: BenchClientId
  /** How it is configured, for the results. */
  readonly setup: string
  create(env: SubjectEnv): Subject
}

/**
 * Gives the global `fetch` (undici) a fresh connection pool of `connections` sockets, as the
 * agents of axios and got have; returns a function that closes it and puts back the one before.
 */
export function useFetchPool(connections: number): () => Promise<void> {
  const before = getGlobalDispatcher()
  const pool = new UndiciAgent({ connections, keepAliveTimeout: 30_000 })
  setGlobalDispatcher(pool)
  return () => {
    setGlobalDispatcher(before)
    return pool.close()
  }
}

interface TokenEndpointBody {
  access_token: string
  expires_in: number
}

const keepAlive = (connections: number) => new HttpAgent({ keepAlive: true, maxSockets: connections })

async function axiosStatus(instance: AxiosInstance): Promise<number> {
  try {
    return (await instance.get('/data')).status
  } catch (error) {
    if (isAxiosError(error) && error.response) return error.response.status
    throw error
  }
}

async function gotStatus(client: Got): Promise<number> {
  try {
    return (await client.get('data', { responseType: 'json' })).statusCode
  } catch (error) {
    if (error instanceof HTTPError) return error.response.statusCode
    throw error
  }
}

async function fetchStatus(response: Promise<Response>): Promise<number> {
  const res = await response
  if (res.ok) await res.json()
  else await res.arrayBuffer()
  return res.status
}

function provider(env: SubjectEnv, clientId: BenchClientId): TokenProvider {
  return createTokenProvider({
    tokenEndpoint: env.tokenEndpoint,
    clientId,
    clientSecret: secretOf(clientId),
    ...(env.refreshSkew !== undefined && { refreshSkew: env.refreshSkew }),
  })
}

/**
 * `provider` with a counter of `peekToken()` calls that found no usable token: the adapter then
 * awaits `getToken()`, so each one is a request that waited on a token request.
 */
export function countWaits(provider: TokenProvider): { provider: TokenProvider; waits: () => number } {
  let waits = 0
  // the provider is frozen: an object on top of it overrides peekToken and inherits the rest
  const counted = Object.create(provider, {
    peekToken: {
      value: () => {
        const token = provider.peekToken()
        if (token === undefined) waits++
        return token
      },
    },
  }) as TokenProvider
  return { provider: counted, waits: () => waits }
}

function staticHeader(env: SubjectEnv): string {
  if (env.staticToken === undefined) throw new Error('a bare client needs env.staticToken')
  return `Bearer ${env.staticToken}`
}

export const bareAxios: SubjectSpec = {
  id: 'axios',
  label: 'axios (static header)',
  client: 'axios',
  kind: 'bare',
  clientId: 'bare',
  setup: 'axios.create({ baseURL, httpAgent, headers: { Authorization } })',
  create(env) {
    const agent = keepAlive(env.connections)
    const instance = axios.create({
      baseURL: env.apiUrl,
      httpAgent: agent,
      headers: { Authorization: staticHeader(env) },
    })
    return { request: () => axiosStatus(instance), close: async () => agent.destroy() }
  },
}

export const bareGot: SubjectSpec = {
  id: 'got',
  label: 'got (static header)',
  client: 'got',
  kind: 'bare',
  clientId: 'bare',
  setup: 'got.extend({ prefixUrl, agent, headers: { authorization } })',
  create(env) {
    const agent = keepAlive(env.connections)
    const client = got.extend({
      prefixUrl: env.apiUrl,
      agent: { http: agent },
      headers: { authorization: staticHeader(env) },
    })
    return { request: () => gotStatus(client), close: async () => agent.destroy() }
  },
}

export const bareFetch: SubjectSpec = {
  id: 'fetch',
  label: 'fetch (static header)',
  client: 'fetch',
  kind: 'bare',
  clientId: 'bare',
  setup: "fetch(url, { headers: { authorization } }) (Node's undici)",
  create(env) {
    const url = `${env.apiUrl}/data`
    const headers = { authorization: staticHeader(env) }
    return { request: () => fetchStatus(fetch(url, { headers })), close: async () => {} }
  },
}

/**
 * The least any token-attaching interceptor does: an async request interceptor that sets a
 * static header, and a response interceptor that looks at the response (where a 401 is seen). It splits an adapter's overhead into what the client charges for having an
 * interceptor at all and what the adapter adds (profiles only).
 */
export const minimalAxios: SubjectSpec = {
  id: 'axios-minimal-interceptor',
  label: 'axios + async interceptor setting a static header, response interceptor passing through',
  client: 'axios',
  kind: 'baseline',
  clientId: 'bare',
  setup:
    "instance.interceptors.request.use(async (config) => { config.headers.set('Authorization', header); return config }); instance.interceptors.response.use((r) => r)",
  create(env) {
    const agent = keepAlive(env.connections)
    const instance = axios.create({ baseURL: env.apiUrl, httpAgent: agent })
    const header = staticHeader(env)
    instance.interceptors.request.use(async (config) => {
      config.headers.set('Authorization', header)
      return config
    })
    instance.interceptors.response.use((response) => response) // where a 401 would be seen
    return { request: () => axiosStatus(instance), close: async () => agent.destroy() }
  },
}

export const minimalGot: SubjectSpec = {
  id: 'got-minimal-hook',
  label: 'got + async beforeRequest hook setting a static header, afterResponse hook passing through',
  client: 'got',
  kind: 'baseline',
  clientId: 'bare',
  setup:
    'got.extend({ hooks: { beforeRequest: [async (options) => { options.headers.authorization = header }], afterResponse: [(r) => r] } })',
  create(env) {
    const agent = keepAlive(env.connections)
    const header = staticHeader(env)
    const client = got.extend({
      prefixUrl: env.apiUrl,
      agent: { http: agent },
      hooks: {
        beforeRequest: [
          async (options) => {
            options.headers['authorization'] = header
          },
        ],
        afterResponse: [(response) => response], // where a 401 would be seen
      },
    })
    return { request: () => gotStatus(client), close: async () => agent.destroy() }
  },
}

export const minimalFetch: SubjectSpec = {
  id: 'fetch-minimal-wrapper',
  label: 'fetch wrapped to add a static header',
  client: 'fetch',
  kind: 'baseline',
  clientId: 'bare',
  setup: '(input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization } })',
  create(env) {
    const url = `${env.apiUrl}/data`
    const authorization = staticHeader(env)
    const wrapped = async (input: string, init?: RequestInit) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization } })
    return { request: () => fetchStatus(wrapped(url)), close: async () => {} }
  },
}

export const tokenwellAxios: SubjectSpec = {
  id: 'tokenwell-axios',
  label: '@tokenwell/axios',
  client: 'axios',
  kind: 'tokenwell',
  clientId: 'tw-axios',
  setup: 'oauth2Interceptor(axios.create({ baseURL, httpAgent }), createTokenProvider(…))',
  create(env) {
    const agent = keepAlive(env.connections)
    const instance = axios.create({ baseURL: env.apiUrl, httpAgent: agent })
    const tokens = provider(env, 'tw-axios')
    oauth2Interceptor(instance, tokens)
    return {
      request: () => axiosStatus(instance),
      async close() {
        await tokens.close()
        agent.destroy()
      },
    }
  },
}

export const tokenwellGot: SubjectSpec = {
  id: 'tokenwell-got',
  label: '@tokenwell/got',
  client: 'got',
  kind: 'tokenwell',
  clientId: 'tw-got',
  setup: 'got.extend(oauth2Hooks(createTokenProvider(…)), { prefixUrl, agent })',
  create(env) {
    const agent = keepAlive(env.connections)
    const tokens = provider(env, 'tw-got')
    const client = got.extend(oauth2Hooks(tokens), { prefixUrl: env.apiUrl, agent: { http: agent } })
    return {
      request: () => gotStatus(client),
      async close() {
        await tokens.close()
        agent.destroy()
      },
    }
  },
}

export const tokenwellFetch: SubjectSpec = {
  id: 'tokenwell-fetch',
  label: '@tokenwell/fetch',
  client: 'fetch',
  kind: 'tokenwell',
  clientId: 'tw-fetch',
  setup: 'withOAuth2(createTokenProvider(…)) over the global fetch',
  create(env) {
    const url = `${env.apiUrl}/data`
    const tokens = provider(env, 'tw-fetch')
    const counted = countWaits(tokens)
    const authFetch = withOAuth2(counted.provider)
    return {
      request: () => fetchStatus(authFetch(url)),
      close: () => tokens.close(),
      tokenWaits: counted.waits,
    }
  },
}

/**
 * axios-auth-refresh as its README shows it: the token lives in application storage, a request
 * interceptor copies it onto every request, and `createAuthRefresh` fetches a new one after a
 * 401 (`deduplicateRefresh`, the default, pauses the instance meanwhile). It never looks at
 * `expires_in`, so a cold start and every expiry go through a 401.
 */
export const axiosAuthRefresh: SubjectSpec = {
  id: 'axios-auth-refresh',
  label: 'axios-auth-refresh',
  client: 'axios',
  kind: 'peer',
  clientId: 'axios-auth-refresh',
  setup:
    'createAuthRefresh(instance, refreshAuthLogic) + a request interceptor that copies the stored token (README)',
  create(env) {
    const agent = keepAlive(env.connections)
    const tokenAgent = keepAlive(env.connections)
    const instance = axios.create({ baseURL: env.apiUrl, httpAgent: agent })
    const tokenClient = axios.create({ httpAgent: tokenAgent })
    let stored: string | undefined // the README's localStorage
    const refreshAuthLogic = (failedRequest: { response: { config: { headers: Record<string, string> } } }) =>
      tokenClient
        .post(env.tokenEndpoint, new URLSearchParams({ grant_type: 'client_credentials' }), {
          auth: { username: 'axios-auth-refresh', password: secretOf('axios-auth-refresh') },
        })
        .then((tokenRefreshResponse) => {
          stored = tokenRefreshResponse.data.access_token as string
          failedRequest.response.config.headers['Authorization'] = `Bearer ${stored}`
        })
    // its .d.ts sees axios's CommonJS typings, ours the ESM ones: the same AxiosInstance at run time
    createAuthRefresh(instance as unknown as Parameters<typeof createAuthRefresh>[0], refreshAuthLogic)
    instance.interceptors.request.use((request) => {
      request.headers['Authorization'] = `Bearer ${stored}`
      return request
    })
    return {
      request: () => axiosStatus(instance),
      async close() {
        agent.destroy()
        tokenAgent.destroy()
      },
    }
  },
}

/**
 * axios-oauth-client 2.x only fetches tokens (`clientCredentials()`); its README attaches and
 * caches nothing. It is wired as its own `interceptor()` did before 2.x removed it: a
 * `tokenCache` of axios-token-interceptor (max age `expires_in`) and that package's request
 * interceptor. Nothing handles a 401.
 */
export const axiosOauthClient: SubjectSpec = {
  id: 'axios-oauth-client',
  label: 'axios-oauth-client',
  client: 'axios',
  kind: 'peer',
  clientId: 'axios-oauth-client',
  setup:
    'clientCredentials(…) behind axios-token-interceptor tokenCache({ getMaxAge: expires_in }), as its removed interceptor() did',
  create(env) {
    const agent = keepAlive(env.connections)
    const tokenAgent = keepAlive(env.connections)
    const instance = axios.create({ baseURL: env.apiUrl, httpAgent: agent })
    const getClientCredentials = clientCredentials(
      axios.create({ httpAgent: tokenAgent }),
      env.tokenEndpoint,
      'axios-oauth-client',
      secretOf('axios-oauth-client'),
    )
    // the body of its former interceptor(tokenProvider, authenticate)
    const getToken = tokenInterceptor.tokenCache<TokenEndpointBody>(() => getClientCredentials(undefined), {
      getMaxAge: (res) => res.expires_in * 1000,
    })
    instance.interceptors.request.use(
      tokenInterceptor({ getToken, headerFormatter: (res) => `Bearer ${res.access_token}` }),
    )
    return {
      request: () => axiosStatus(instance),
      async close() {
        agent.destroy()
        tokenAgent.destroy()
      },
    }
  },
}

/** `OAuth2Fetch` of @badgateway/oauth2-client with `getNewToken: () => client.clientCredentials()`, as its README shows. */
export const badgateway: SubjectSpec = {
  id: 'badgateway-oauth2-client',
  label: '@badgateway/oauth2-client',
  client: 'fetch',
  kind: 'peer',
  clientId: 'badgateway',
  setup: 'new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() }).fetch (README)',
  create(env) {
    const url = `${env.apiUrl}/data`
    const client = new OAuth2Client({
      server: env.issuer,
      tokenEndpoint: '/token',
      clientId: 'badgateway',
      clientSecret: secretOf('badgateway'),
    })
    const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() })
    return { request: () => fetchStatus(wrapper.fetch(url)), close: async () => {} }
  },
}

/**
 * The interceptor many codebases grow by hand: a cached token refetched `skew` ms before it
 * expires, and one retry after a 401. No single-flight: every caller that finds the cache empty
 * or stale asks for a token.
 */
export const handWritten: SubjectSpec = {
  id: 'hand-written',
  label: 'hand-written interceptor',
  client: 'axios',
  kind: 'peer',
  clientId: 'hand-written',
  setup:
    'request interceptor with a cached token (no single-flight), response interceptor retries a 401 once',
  create(env) {
    const agent = keepAlive(env.connections)
    const tokenAgent = keepAlive(env.connections)
    const instance = axios.create({ baseURL: env.apiUrl, httpAgent: agent })
    const tokenClient = axios.create({ httpAgent: tokenAgent })
    const skew = env.refreshSkew ?? 30_000
    let cached: { accessToken: string; expiresAt: number } | undefined

    async function getAccessToken(): Promise<string> {
      if (cached && Date.now() < cached.expiresAt - skew) return cached.accessToken
      const { data } = await tokenClient.post(
        env.tokenEndpoint,
        new URLSearchParams({ grant_type: 'client_credentials' }),
        { auth: { username: 'hand-written', password: secretOf('hand-written') } },
      )
      cached = { accessToken: data.access_token, expiresAt: Date.now() + data.expires_in * 1000 }
      return cached.accessToken
    }

    instance.interceptors.request.use(async (config) => {
      config.headers.Authorization = `Bearer ${await getAccessToken()}`
      return config
    })
    instance.interceptors.response.use(undefined, async (error) => {
      const config = error.config
      if (error.response?.status === 401 && config && !config._retried) {
        config._retried = true
        cached = undefined
        return instance(config)
      }
      throw error
    })
    return {
      request: () => axiosStatus(instance),
      async close() {
        agent.destroy()
        tokenAgent.destroy()
      },
    }
  },
}

async function undiciStatus(dispatcher: Dispatcher, url: string, headers?: Record<string, string>) {
  const response = await request(url, { dispatcher, ...(headers && { headers }) })
  if (response.statusCode === 200) await response.body.json()
  else await response.body.dump()
  return response.statusCode
}

async function kyStatus(client: KyInstance): Promise<number> {
  const response = await client.get('data')
  if (response.ok) await response.json()
  else await response.arrayBuffer()
  return response.status
}

const undiciAgent = (connections: number) => new UndiciAgent({ connections, keepAliveTimeout: 30_000 })

export const bareUndici: SubjectSpec = {
  id: 'undici',
  label: 'undici.request (static header)',
  client: 'undici',
  kind: 'bare',
  clientId: 'bare',
  setup: 'request(url, { dispatcher: new Agent(), headers: { authorization } })',
  create(env) {
    const agent = undiciAgent(env.connections)
    const url = `${env.apiUrl}/data`
    const headers = { authorization: staticHeader(env) }
    return { request: () => undiciStatus(agent, url, headers), close: () => agent.close() }
  },
}

export const minimalUndici: SubjectSpec = {
  id: 'undici-minimal-interceptor',
  label: 'undici with an interceptor that adds a static header',
  client: 'undici',
  kind: 'baseline',
  clientId: 'bare',
  setup: 'new Agent().compose((dispatch) => (opts, handler) => dispatch({ ...opts, headers }, handler))',
  create(env) {
    const agent = undiciAgent(env.connections)
    const authorization = staticHeader(env)
    const dispatcher = agent.compose(
      (dispatch) => (opts, handler) =>
        dispatch(
          { ...opts, headers: { ...(opts.headers as Record<string, string>), authorization } },
          handler,
        ),
    )
    const url = `${env.apiUrl}/data`
    return { request: () => undiciStatus(dispatcher, url), close: () => agent.close() }
  },
}

export const tokenwellUndici: SubjectSpec = {
  id: 'tokenwell-undici',
  label: '@tokenwell/undici',
  client: 'undici',
  kind: 'tokenwell',
  clientId: 'tw-undici',
  setup: 'request(url, { dispatcher: new Agent().compose(oauth2(createTokenProvider(…), { match })) })',
  create(env) {
    const agent = undiciAgent(env.connections)
    const tokens = provider(env, 'tw-undici')
    const dispatcher = agent.compose(oauth2(tokens, { match: new URL(env.apiUrl).origin }))
    const url = `${env.apiUrl}/data`
    return {
      request: () => undiciStatus(dispatcher, url),
      async close() {
        await tokens.close()
        await agent.close()
      },
    }
  },
}

export const bareKy: SubjectSpec = {
  id: 'ky',
  label: 'ky (static header)',
  client: 'ky',
  kind: 'bare',
  clientId: 'bare',
  setup: "ky.create({ prefixUrl, headers: { authorization } }) (Node's fetch)",
  create(env) {
    const client = ky.create({ prefixUrl: env.apiUrl, headers: { authorization: staticHeader(env) } })
    return { request: () => kyStatus(client), close: async () => {} }
  },
}

export const minimalKy: SubjectSpec = {
  id: 'ky-minimal-hook',
  label: 'ky with a beforeRequest hook that sets a static header',
  client: 'ky',
  kind: 'baseline',
  clientId: 'bare',
  setup: "ky.create({ prefixUrl, hooks: { beforeRequest: [(r) => r.headers.set('authorization', …)] } })",
  create(env) {
    const authorization = staticHeader(env)
    const client = ky.create({
      prefixUrl: env.apiUrl,
      hooks: { beforeRequest: [(r) => r.headers.set('authorization', authorization)] },
    })
    return { request: () => kyStatus(client), close: async () => {} }
  },
}

export const tokenwellKy: SubjectSpec = {
  id: 'tokenwell-ky',
  label: '@tokenwell/ky',
  client: 'ky',
  kind: 'tokenwell',
  clientId: 'tw-ky',
  setup: 'ky.create({ prefixUrl, ...oauth2Hooks(createTokenProvider(…)) })',
  create(env) {
    const tokens = provider(env, 'tw-ky')
    const client = ky.create({ prefixUrl: env.apiUrl, ...kyHooks(tokens) })
    return { request: () => kyStatus(client), close: () => tokens.close() }
  },
}

export const BARE: Record<HttpClient, SubjectSpec> = {
  axios: bareAxios,
  got: bareGot,
  fetch: bareFetch,
  undici: bareUndici,
  ky: bareKy,
}
export const MINIMAL: Record<HttpClient, SubjectSpec> = {
  axios: minimalAxios,
  got: minimalGot,
  fetch: minimalFetch,
  undici: minimalUndici,
  ky: minimalKy,
}
export const TOKENWELL: Record<HttpClient, SubjectSpec> = {
  axios: tokenwellAxios,
  got: tokenwellGot,
  fetch: tokenwellFetch,
  undici: tokenwellUndici,
  ky: tokenwellKy,
}
export const PEERS: readonly SubjectSpec[] = [axiosAuthRefresh, axiosOauthClient, badgateway, handWritten]
/** Everything the concurrency scenarios run, in table order. */
export const CONTENDERS: readonly SubjectSpec[] = [
  tokenwellAxios,
  tokenwellGot,
  tokenwellFetch,
  tokenwellUndici,
  tokenwellKy,
  ...PEERS,
]
