import { Agent } from 'node:http'
import { oauth2Interceptor } from '@tokenwell/axios'
import type { TokenProvider } from '@tokenwell/core'
import type { AdapterOptions } from '@tokenwell/core/adapter'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import axios from 'axios'
import got from 'got'

/** The request bodies every adapter must replay unchanged. */
export const bodyKinds = ['json', 'string', 'URLSearchParams', 'FormData', 'Blob', 'ArrayBuffer'] as const
export type BodyKind = (typeof bodyKinds)[number]

/** What a request returned, whatever the client: its status and parsed JSON body. */
export interface Outcome {
  status: number
  data: unknown
}

/** One adapter behind one small interface, so the contract runs unchanged over all three. */
export interface Harness {
  readonly name: 'axios' | 'got' | 'fetch'
  /** A client for `baseUrl` (axios `baseURL`, got `prefixUrl`; fetch resolves paths itself). */
  create(provider: TokenProvider, baseUrl: string, options?: AdapterOptions): Client
}

/** One request as a caller of the client would write it, with the variations the contract needs. */
export interface Attempt {
  target: string
  method?: string
  /** The caller's own headers (an `Authorization` of its own). */
  headers?: Record<string, string>
  /** Client-level Basic auth: axios `auth`, got `username`/`password`; fetch has none (the caller sets the header). */
  basicAuth?: { username: string; password: string }
  /** The request's own base URL is empty (axios `baseURL: ''`, got `prefixUrl: ''`). */
  emptyBase?: boolean
  /** The client rejects HTTP errors as it does by default (axios `validateStatus`, got `throwHttpErrors`). */
  httpErrors?: boolean
}

export interface Client {
  /** `target` is a path under the base URL or an absolute URL; HTTP errors resolve, never reject. */
  send(method: string, target: string, body?: BodyKind, signal?: AbortSignal): Promise<Outcome>
  /** Never rejects: what the client answered, or the error it rejected with, as it came. */
  attempt(spec: Attempt): Promise<{ status?: number; error?: unknown }>
  close(): void
}

const settled = (promise: Promise<number>) =>
  promise.then(
    (status) => ({ status }),
    (error: unknown) => ({ error }),
  )
const basic = ({ username, password }: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`

const JSON_BODY = { id: 7, name: 'ada ✓', tags: ['a', 'b'] }

/** The bytes the server must see for `kind` (FormData is checked by its parts: its boundary is random). */
export function expectedBytes(kind: Exclude<BodyKind, 'FormData'>): Buffer {
  switch (kind) {
    case 'json':
      return Buffer.from(JSON.stringify(JSON_BODY))
    case 'string':
      return Buffer.from('plain text ✓\r\nsecond line')
    case 'URLSearchParams':
      return Buffer.from('a=1&b=x+y&c=%C3%A9')
    case 'Blob':
      return Buffer.from([1, 2, 3, 0, 254, 255])
    case 'ArrayBuffer':
      return Buffer.from([9, 8, 7, 0, 128])
  }
}

export const formParts = { name: 'ada', file: Buffer.from([0, 1, 2, 255, 13, 10]) }

function formData(): FormData {
  const form = new FormData()
  form.set('name', formParts.name)
  form.set('file', new Blob([new Uint8Array(formParts.file)], { type: 'application/octet-stream' }), 'f.bin')
  return form
}

/** The body as each client takes it (got has no Blob or ArrayBuffer body: it gets a Buffer and a Uint8Array). */
function bodyFor(harness: Harness['name'], kind: BodyKind): unknown {
  switch (kind) {
    case 'json':
      return JSON_BODY
    case 'string':
      return expectedBytes('string').toString()
    case 'URLSearchParams':
      return new URLSearchParams({ a: '1', b: 'x y', c: 'é' })
    case 'FormData':
      return formData()
    case 'Blob':
      return harness === 'got' ? expectedBytes('Blob') : new Blob([new Uint8Array(expectedBytes('Blob'))])
    case 'ArrayBuffer':
      return harness === 'got'
        ? new Uint8Array(expectedBytes('ArrayBuffer'))
        : new Uint8Array(expectedBytes('ArrayBuffer')).buffer
  }
}

async function parse(text: string): Promise<unknown> {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Loopback keep-alive agents: 1,000 concurrent requests reuse at most 64 sockets. */
const agent = () => new Agent({ keepAlive: true, maxSockets: 64 })

export const harnesses: readonly Harness[] = [
  {
    name: 'axios',
    create(provider, baseUrl, options) {
      const httpAgent = agent()
      const instance = axios.create({
        baseURL: baseUrl,
        httpAgent,
        validateStatus: () => true,
        responseType: 'text',
      })
      oauth2Interceptor(instance, provider, options)
      return {
        async send(method, target, body, signal) {
          const response = await instance.request({
            method,
            url: target,
            ...(body && { data: bodyFor('axios', body) }),
            ...(signal && { signal }),
          })
          return { status: response.status, data: await parse(String(response.data)) }
        },
        attempt: (spec) =>
          settled(
            instance
              .request({
                method: spec.method ?? 'GET',
                url: spec.target,
                ...(spec.headers && { headers: spec.headers }),
                ...(spec.basicAuth && { auth: spec.basicAuth }),
                ...(spec.emptyBase && { baseURL: '' }),
                ...(spec.httpErrors && { validateStatus: (status: number) => status >= 200 && status < 300 }),
              })
              .then((r) => r.status),
          ),
        close: () => httpAgent.destroy(),
      }
    },
  },
  {
    name: 'got',
    create(provider, baseUrl, options) {
      const http = agent()
      const client = got.extend(oauth2Hooks(provider, options), {
        prefixUrl: baseUrl,
        agent: { http },
        throwHttpErrors: false,
        retry: { limit: 0 },
      })
      return {
        async send(method, target, kind, signal) {
          const absolute = /^https?:/.test(target)
          // got takes JSON as `json` and URL-encoded forms as `form` (an iterable body means chunks)
          const value = kind && bodyFor('got', kind)
          const body =
            kind === 'json'
              ? { json: value }
              : kind === 'URLSearchParams'
                ? { form: Object.fromEntries(value as URLSearchParams) }
                : kind && { body: value }
          const url = absolute ? target : target.replace(/^\//, '')
          const response = await client(url, {
            method: method as 'GET',
            ...(absolute && { prefixUrl: '' }),
            ...(body as object),
            ...(signal && { signal }),
          })
          return { status: response.statusCode, data: await parse(String(response.body)) }
        },
        attempt: (spec) => {
          const absolute = /^https?:/.test(spec.target)
          return settled(
            client(absolute ? spec.target : spec.target.replace(/^\//, ''), {
              method: (spec.method ?? 'GET') as 'GET',
              ...(spec.headers && { headers: spec.headers }),
              ...(spec.basicAuth && spec.basicAuth),
              ...((absolute || spec.emptyBase) && { prefixUrl: '' }),
              throwHttpErrors: spec.httpErrors === true,
            }).then((r) => r.statusCode),
          )
        },
        close: () => http.destroy(),
      }
    },
  },
  {
    name: 'fetch',
    create(provider, baseUrl, options) {
      // fetch has no base URL: the contract's base is its `match`, as a fetch user would write it
      const authFetch = withOAuth2(provider, { match: new URL(baseUrl).origin, ...options })
      return {
        async send(method, target, kind, signal) {
          const raw = kind === undefined ? undefined : bodyFor('fetch', kind)
          const json = kind === 'json'
          const response = await authFetch(new URL(target, baseUrl), {
            method,
            ...(raw !== undefined && { body: json ? JSON.stringify(raw) : (raw as BodyInit) }),
            ...(json && { headers: { 'content-type': 'application/json' } }),
            ...(signal && { signal }),
          })
          return { status: response.status, data: await parse(await response.text()) }
        },
        attempt: (spec) => {
          const headers = { ...spec.headers, ...(spec.basicAuth && { authorization: basic(spec.basicAuth) }) }
          const init = { method: spec.method ?? 'GET', headers }
          return settled(
            Promise.resolve()
              .then(() => authFetch(new URL(spec.target, baseUrl), init))
              .then(async (r) => {
                await r.arrayBuffer()
                return r.status
              }),
          )
        },
        close: () => {},
      }
    },
  },
]
