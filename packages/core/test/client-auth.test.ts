import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { basicCredentials, createTokenProvider } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

function capture() {
  const seen: { headers: Headers; form: URLSearchParams }[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      seen.push({ headers: request.headers, form: new URLSearchParams(await request.text()) })
      return HttpResponse.json({ access_token: 'a', token_type: 'Bearer', expires_in: 60 })
    }),
  )
  return seen
}

describe('client authentication', () => {
  it('client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', () => {
    const header = basicCredentials('svc:a', 'p@ss wörd/+')
    const decoded = atob(header.slice('Basic '.length))
    expect(decoded).toBe('svc%3Aa:p%40ss+w%C3%B6rd%2F%2B')
  })

  it('client_secret_basic sends the Authorization header and no secret in the body', async () => {
    const seen = capture()
    await createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's' }).getToken()
    expect(seen[0]!.headers.get('authorization')).toBe(`Basic ${btoa('c:s')}`)
    expect(seen[0]!.form.has('client_secret')).toBe(false)
    expect(seen[0]!.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/)
    expect(seen[0]!.headers.get('accept')).toBe('application/json')
  })

  it('client_secret_post sends id and secret in the body', async () => {
    const seen = capture()
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      clientAuth: 'client_secret_post',
    }).getToken()
    expect(seen[0]!.headers.get('authorization')).toBeNull()
    expect(seen[0]!.form.get('client_id')).toBe('c')
    expect(seen[0]!.form.get('client_secret')).toBe('s')
  })

  it('none sends only the client id', async () => {
    const seen = capture()
    await createTokenProvider({ tokenEndpoint, clientId: 'pub', clientAuth: 'none' }).getToken()
    expect(seen[0]!.headers.get('authorization')).toBeNull()
    expect(seen[0]!.form.get('client_id')).toBe('pub')
    expect(seen[0]!.form.has('client_secret')).toBe(false)
  })
})
