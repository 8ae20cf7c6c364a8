import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http, passthrough } from 'msw'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '../src/index.js'
import { demoBasic } from './helpers.js'

// Unit tests run behind msw; these talk to real loopback servers, so let loopback through.
beforeEach(() => {
  server.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()))
})

let auth: RunningMockAuthServer
let api: RunningProtectedApi
beforeAll(async () => {
  auth = await startMockAuthServer()
  api = await startProtectedApi({ authServer: auth })
})
afterAll(async () => {
  await api?.close()
  await auth?.close()
})

const tokenRequest = () =>
  fetch(auth.tokenEndpoint, {
    method: 'POST',
    headers: demoBasic,
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })

describe('startMockAuthServer over loopback HTTP', () => {
  it('listens on 127.0.0.1 on a free port, with the issuer and endpoints under its URL', async () => {
    expect(auth.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(auth.issuer).toBe(auth.url)
    expect(auth.tokenEndpoint).toBe(`${auth.url}/token`)
    const metadata = (await (
      await fetch(`${auth.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      issuer: auth.url,
      token_endpoint: auth.tokenEndpoint,
      jwks_uri: auth.jwksUri,
    })
  })

  it('issues a token that the protected API accepts', async () => {
    auth.stats.reset()
    const { access_token } = (await (await tokenRequest()).json()) as { access_token: string }
    const res = await fetch(`${api.url}/echo`, { headers: { authorization: `Bearer ${access_token}` } })
    expect(res.status).toBe(200)
    expect(auth.stats.tokenRequests).toBe(1)
  })

  it('serves concurrent API and token requests, counting each (1,000+ run in test/mock-server.test.ts)', async () => {
    auth.stats.reset()
    api.stats.reset()
    const { access_token } = (await (await tokenRequest()).json()) as { access_token: string }
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fetch(`${api.url}/echo/${i % 10}`, { headers: { authorization: `Bearer ${access_token}` } }).then(
          async (r) => {
            await r.arrayBuffer()
            return r.status
          },
        ),
      ),
    )
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(api.stats.requests).toBe(100)
    expect(api.stats.byPath['/echo/3']).toBe(10)
    const tokens = await Promise.all(Array.from({ length: 100 }, () => tokenRequest().then((r) => r.status)))
    expect(tokens.every((s) => s === 200)).toBe(true)
    expect(auth.stats.tokenRequests).toBe(101)
    expect(auth.stats.byGrant['client_credentials']).toBe(101)
  })

  it('passes method, query, headers and a binary body through node:http unchanged', async () => {
    const { access_token } = (await (await tokenRequest()).json()) as { access_token: string }
    const body = new Uint8Array([0, 255, 1, 254, 10, 13])
    const res = await fetch(`${api.url}/echo/x?a=1&b=two`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/octet-stream' },
      body,
    })
    expect(await res.json()).toMatchObject({
      method: 'PUT',
      path: '/echo/x',
      query: { a: '1', b: 'two' },
      contentType: 'application/octet-stream',
      bodyBase64: Buffer.from(body).toString('base64'),
    })
  })

  it('drops the connection for a networkError fault', async () => {
    auth.failNext(1, { networkError: true })
    await expect(tokenRequest()).rejects.toThrow()
    expect((await tokenRequest()).status).toBe(200)
  })

  it('validates options before listening', async () => {
    await expect(startMockAuthServer({ tokenLifetime: -1 })).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'ERR_CONFIG',
    })
  })
})

it('msw still answers non-loopback requests (sanity check of the passthrough above)', async () => {
  server.use(http.get('https://elsewhere.test/', () => HttpResponse.text('mocked')))
  expect(await (await fetch('https://elsewhere.test/')).text()).toBe('mocked')
})
