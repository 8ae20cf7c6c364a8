import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { expect, it } from 'vitest'
import { createTokenProvider, type Grant } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'
const TE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'

/** The form bodies the token endpoint received, in order, for one `getToken()` with `grant`. */
async function bodiesFor(grant: Grant): Promise<string[]> {
  const bodies: string[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      bodies.push(await request.text())
      return HttpResponse.json({ access_token: 'a', token_type: 'Bearer', expires_in: 300 })
    }),
  )
  await createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', grant }).getToken()
  return bodies
}

it.each<[string, Grant, Record<string, string>]>([
  ['client_credentials', { type: 'client_credentials' }, { grant_type: 'client_credentials' }],
  [
    'password',
    { type: 'password', username: 'u', password: 'p w' },
    { grant_type: 'password', username: 'u', password: 'p w' },
  ],
  [
    'refresh_token',
    { type: 'refresh_token', refreshToken: 'r' },
    { grant_type: 'refresh_token', refresh_token: 'r' },
  ],
  [
    'authorization_code without a verifier',
    { type: 'authorization_code', code: 'k', redirectUri: 'https://app.test/cb' },
    { grant_type: 'authorization_code', code: 'k', redirect_uri: 'https://app.test/cb' },
  ],
  [
    'authorization_code with a verifier',
    { type: 'authorization_code', code: 'k', redirectUri: 'https://app.test/cb', codeVerifier: 'v' },
    { grant_type: 'authorization_code', code: 'k', redirect_uri: 'https://app.test/cb', code_verifier: 'v' },
  ],
  [
    'jwt-bearer from a function',
    { type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: async () => 'jwt' },
    { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'jwt' },
  ],
  [
    'token-exchange with the default subject token type and no actor',
    { type: TE, subjectToken: 'st' },
    { grant_type: TE, subject_token: 'st', subject_token_type: AT },
  ],
  [
    'token-exchange with an actor (its type defaulted) and a requested type',
    { type: TE, subjectToken: () => 'st', actorToken: async () => 'at', requestedTokenType: 'urn:x' },
    {
      grant_type: TE,
      subject_token: 'st',
      subject_token_type: AT,
      actor_token: 'at',
      actor_token_type: AT,
      requested_token_type: 'urn:x',
    },
  ],
  [
    'token-exchange with its own token types',
    { type: TE, subjectToken: 'st', subjectTokenType: 'urn:s', actorToken: 'at', actorTokenType: 'urn:a' },
    {
      grant_type: TE,
      subject_token: 'st',
      subject_token_type: 'urn:s',
      actor_token: 'at',
      actor_token_type: 'urn:a',
    },
  ],
])('a %s grant sends its form parameters, in order', async (_, grant, params) => {
  const bodies = await bodiesFor(grant)
  expect(bodies.length).toBe(1)
  const sent = new URLSearchParams(bodies[0])
  sent.delete('client_secret')
  sent.delete('client_id')
  expect(sent.toString()).toBe(new URLSearchParams(params).toString())
})
