// Runs in a fresh npm project where the packed tarballs were installed (see .ci/release-dry-run):
// what a new user gets from `npm install`, with no workspace, alias or source file around.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'

let passed = 0
let failed = 0
async function check(name, fn) {
  try {
    await fn()
    passed++
    console.log(`  ✓ ${name}`)
  } catch (error) {
    failed++
    console.log(`  ✗ ${name}: ${error?.stack ?? error}`)
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message)
}

const names = readdirSync('node_modules/@tokenwell').map((dir) => `@tokenwell/${dir}`)
console.log(`release dry run: smoke checks with Node ${process.version}, ${names.length} packages installed`)

await check('every package imports by name, and ships its LICENSE and no source maps', async () => {
  for (const name of names) {
    const dir = `node_modules/${name}`
    const module = await import(name)
    assert(Object.keys(module).length > 0, `${name} exports nothing`)
    assert(readFileSync(`${dir}/LICENSE`, 'utf8').includes('MIT License'), `${name} has no LICENSE`)
    const files = readdirSync(`${dir}/dist`, { recursive: true }).map(String)
    assert(!files.some((f) => f.endsWith('.map')), `${name} ships .map files`)
    assert(!existsSync(`${dir}/src`), `${name} ships src/`)
  }
})

await check('require() loads the ESM packages (Node >= 20.19)', () => {
  const require = createRequire(import.meta.url)
  assert(typeof require('@tokenwell/core').createTokenProvider === 'function', 'no createTokenProvider')
})

const { startMockAuthServer, startProtectedApi } = await import('@tokenwell/mock-server')
const { createTokenProvider } = await import('@tokenwell/core')
const auth = await startMockAuthServer({ clients: [{ clientId: 'smoke', clientSecret: 'smoke-secret' }] })
const api = await startProtectedApi({ authServer: auth })
const options = { tokenEndpoint: auth.tokenEndpoint, clientId: 'smoke', clientSecret: 'smoke-secret' }

try {
  await check('a provider gets one token for ten concurrent callers from the mock server', async () => {
    const provider = createTokenProvider(options)
    const tokens = await Promise.all(Array.from({ length: 10 }, () => provider.getToken()))
    assert(new Set(tokens.map((t) => t.accessToken)).size === 1, 'callers got different tokens')
    assert(auth.stats.tokenRequests === 1, `${auth.stats.tokenRequests} token requests`)
    assert((await auth.verifyAccessToken(tokens[0].accessToken)) !== undefined, 'the token does not verify')
    await provider.close()
  })

  await check('axios, got and fetch adapters call the protected API with the token', async () => {
    const { default: axios } = await import('axios')
    const { default: got } = await import('got')
    const { oauth2Interceptor } = await import('@tokenwell/axios')
    const { oauth2Hooks } = await import('@tokenwell/got')
    const { withOAuth2 } = await import('@tokenwell/fetch')
    const provider = createTokenProvider(options)
    const viaAxios = axios.create({ baseURL: `${api.url}/echo` })
    oauth2Interceptor(viaAxios, provider)
    assert((await viaAxios.get('/a')).data.authorized === true, 'axios: not authorized')
    const viaGot = got.extend(oauth2Hooks(provider), { prefixUrl: `${api.url}/echo` })
    assert((await viaGot.get('b').json()).authorized === true, 'got: not authorized')
    const response = await withOAuth2(provider)(`${api.url}/echo/c`)
    assert(response.status === 200, `fetch: ${response.status}`)
    await provider.close()
  })

  await check('@tokenwell/opentelemetry wraps a provider (no-op API without an SDK)', async () => {
    const { instrumentTokenProvider } = await import('@tokenwell/opentelemetry')
    const provider = instrumentTokenProvider(createTokenProvider(options))
    assert(typeof (await provider.getToken()).accessToken === 'string', 'no token')
    await provider.close()
  })

  await check('the tokenwell bin prints a token the server issued', async () => {
    const { stdout } = await promisify(execFile)(
      'node_modules/.bin/tokenwell',
      [
        'token',
        '--token-endpoint',
        auth.tokenEndpoint,
        '--client-id',
        'smoke',
        '--client-secret-env',
        'SMOKE_SECRET',
      ],
      { env: { PATH: process.env.PATH, SMOKE_SECRET: 'smoke-secret' } },
    )
    assert((await auth.verifyAccessToken(stdout.trim())) !== undefined, 'the printed token does not verify')
  })

  await check('@tokenwell/node and @tokenwell/redis build their objects', async () => {
    const { createNodeFetch } = await import('@tokenwell/node')
    const nodeFetch = createNodeFetch({})
    assert(typeof nodeFetch === 'function', 'createNodeFetch returned no function')
    await nodeFetch.close?.()
    const { createRedisTokenStore } = await import('@tokenwell/redis')
    let threw
    try {
      createRedisTokenStore({ client: {} })
    } catch (error) {
      threw = error
    }
    assert(threw?.code === 'ERR_CONFIG', 'a bad client is not a ConfigError')
  })
} finally {
  await api.close()
  await auth.close()
}

console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
