import { expect, it } from 'vitest'
import type { Grant } from '../src/index.js'
import { cacheKeyOf } from '../src/provider/cache-key.js'
import { resolveOptions } from '../src/provider/resolve-options.js'

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

// A stored token is found by its key: a key that changes between versions loses every stored token
it.each<[string, Grant, string]>([
  [
    'client_credentials',
    { type: 'client_credentials' },
    'tokenwell:a97e6970fabef59c252d98447f175febac758df48b18e0f16f570a522684f0d9',
  ],
  [
    'password',
    { type: 'password', username: 'u', password: 'p' },
    'tokenwell:c87f1f869c84999ff6cb2b74c69ffcc79dd4245742786792b46d7120316c228d',
  ],
  [
    'refresh_token',
    { type: 'refresh_token', refreshToken: 'r' },
    'tokenwell:8fde62fc175996cde08d2007cea98d610e21e448999d27d9c1e26f93e52cd542',
  ],
  [
    'authorization_code',
    { type: 'authorization_code', code: 'k', redirectUri: 'https://app.test/cb' },
    'tokenwell:502244e7ef99e681ae82839e842c13050b134c4684e6178322fe029c854df783',
  ],
  [
    'jwt-bearer',
    { type: JWT, assertion: 'a.b.c' },
    'tokenwell:cb25a02c02e7903eb6dbdaac280b87be6d1b287bbd0c9e70dfd870235f9f483a',
  ],
  [
    'jwt-bearer from a function',
    { type: JWT, assertion: () => 'a.b.c' },
    'tokenwell:8e367683c5574fe8e935c4f3899035a88b53d1fce801919877b88764ae3080da',
  ],
  [
    'token-exchange',
    { type: TE, subjectToken: 's', actorToken: 'a', requestedTokenType: 'urn:x' },
    'tokenwell:61f076e8cc8c6f083904942f95d690d740d4b421e402cf21a914018b453aee4c',
  ],
  [
    'token-exchange with an actor function',
    { type: TE, subjectToken: 's', actorToken: () => 'a' },
    'tokenwell:06b4c9421b642519af37835df8841a42c59373d0573f8c538926dee8f684f105',
  ],
])('the cache key of a %s provider is what it was', async (_, grant, key) => {
  const options = resolveOptions({
    tokenEndpoint: 'https://as.test/token',
    clientId: 'c',
    clientSecret: 's',
    grant,
  })
  expect(await cacheKeyOf(options, 'instance-1')).toBe(key)
})
