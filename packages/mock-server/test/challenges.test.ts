import { describe, expect, it } from 'vitest'
import { createMockAuthServer, createProtectedApi } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const apiUrl = 'https://api.test'

function setup(options: Partial<Parameters<typeof createProtectedApi>[0]> = {}) {
  const auth = createMockAuthServer({ issuer })
  const api = createProtectedApi({ authServer: auth, ...options })
  const token = async (params: Record<string, string> = {}) => {
    const { status, body } = await postToken(auth, { grant_type: 'client_credentials', ...params }, demoBasic)
    expect(status).toBe(200)
    return body.access_token as string
  }
  const call = (path: string, token?: string) =>
    api.handle(
      new Request(`${apiUrl}${path}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      }),
    )
  return { auth, api, token, call }
}

/** The parameters of the one Bearer challenge in `response`. */
function challengeOf(response: Response): Record<string, string> {
  const header = response.headers.get('www-authenticate') ?? ''
  expect(header).toMatch(/^Bearer /)
  return Object.fromEntries(
    [...header.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name!, value!]),
  )
}

const decode = (value: string) => JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))

describe('protected API challenges', () => {
  it('insufficient_scope names the scope; a token with every listed scope passes', async () => {
    const { token, call } = setup()
    const narrow = await token({ scope: 'read' })
    const refused = await call('/step-up/scope?scope=read%20admin', narrow)
    expect(refused.status).toBe(403)
    expect(challengeOf(refused)).toMatchObject({ error: 'insufficient_scope', scope: 'read admin' })
    expect((await call('/step-up/scope?scope=admin&status=401', narrow)).status).toBe(401)
    const wide = await token({ scope: 'read admin' })
    const passed = await call('/step-up/scope?scope=read%20admin', wide)
    expect(passed.status).toBe(200)
    expect(await passed.json()).toMatchObject({ authorized: true, scope: 'read admin' })
  })

  it('insufficient_claims carries base64url JSON that the token endpoint honours as its claims parameter', async () => {
    const { token, call } = setup()
    const refused = await call('/step-up/claims?claim=acrs&value=c1', await token())
    expect(refused.status).toBe(401)
    const params = challengeOf(refused)
    expect(params.error).toBe('insufficient_claims')
    expect(params.claims).toMatch(/^[A-Za-z0-9_-]+$/)
    const claims = decode(params.claims!)
    expect(claims).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } })
    const satisfied = await token({ claims: JSON.stringify(claims) })
    expect((await call('/step-up/claims?claim=acrs&value=c1', satisfied)).status).toBe(200)
    expect((await call('/step-up/claims?claim=acrs&value=c2', satisfied)).status).toBe(401)
  })

  it('claims challenges as Entra sends them (padded base64, authorization_uri), and one never satisfied', async () => {
    const { token, call } = setup()
    const entra = challengeOf(
      await call('/step-up/claims?claim=acrs&value=c1&encoding=base64', await token()),
    )
    expect(entra.authorization_uri).toMatch(/^https:/)
    expect(entra.claims).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const claims = JSON.parse(Buffer.from(entra.claims!, 'base64').toString('utf8'))
    expect(claims).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } })
    const satisfied = await token({ claims: JSON.stringify(claims) })
    expect((await call('/step-up/claims?claim=acrs&value=c1&always=1', satisfied)).status).toBe(401)
  })

  it('refuses a claims parameter that is not JSON or sets a reserved claim', async () => {
    const { auth } = setup()
    for (const claims of ['{', '[]', JSON.stringify({ access_token: { sub: { value: 'root' } } })]) {
      const { status, body } = await postToken(auth, { grant_type: 'client_credentials', claims }, demoBasic)
      expect(status).toBe(400)
      expect(body.error).toBe('invalid_request')
    }
  })

  it('insufficient_user_authentication names acr_values and max_age until the token satisfies both', async () => {
    const { token, call } = setup()
    const path = '/step-up/authentication?acr_values=phr%20phrh&max_age=60'
    const refused = await call(path, await token())
    expect(refused.status).toBe(401)
    expect(challengeOf(refused)).toMatchObject({
      error: 'insufficient_user_authentication',
      acr_values: 'phr phrh',
      max_age: '60',
    })
    const now = Math.floor(Date.now() / 1000)
    const old = await token({
      claims: JSON.stringify({ access_token: { acr: { value: 'phr' }, auth_time: { value: now - 600 } } }),
    })
    expect((await call(path, old)).status).toBe(401)
    const fresh = await token({
      claims: JSON.stringify({ access_token: { acr: { value: 'phrh' }, auth_time: { value: now } } }),
    })
    expect((await call(path, fresh)).status).toBe(200)
  })

  it('adds resource_metadata to 401 challenges only when asked to', async () => {
    const plain = setup()
    expect(challengeOf(await plain.call('/echo')).resource_metadata).toBeUndefined()
    const advertising = setup({ advertiseResourceMetadata: true, resourcePath: '/mcp' })
    expect(challengeOf(await advertising.call('/echo')).resource_metadata).toBe(
      `${apiUrl}/.well-known/oauth-protected-resource/mcp`,
    )
    const forbidden = await advertising.call('/step-up/scope?scope=admin', await advertising.token())
    expect(forbidden.status).toBe(403)
    expect(challengeOf(forbidden).resource_metadata).toBeUndefined()
  })
})

describe('protected resource metadata (RFC 9728)', () => {
  it('answers for the resource at the path after the well-known prefix, naming the auth server', async () => {
    const { call } = setup()
    const response = await call('/.well-known/oauth-protected-resource/mcp')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      resource: `${apiUrl}/mcp`,
      authorization_servers: [issuer],
      bearer_methods_supported: ['header'],
    })
    expect(await (await call('/.well-known/oauth-protected-resource')).json()).toMatchObject({
      resource: `${apiUrl}/`,
    })
  })

  it('takes authorization servers and overrides from its options', async () => {
    const { call } = setup({
      authorizationServers: ['https://a.test', 'https://b.test'],
      resourceMetadata: { resource: 'https://elsewhere.test/' },
    })
    expect(await (await call('/.well-known/oauth-protected-resource')).json()).toMatchObject({
      resource: 'https://elsewhere.test/',
      authorization_servers: ['https://a.test', 'https://b.test'],
    })
  })
})
