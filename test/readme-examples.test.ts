// The READMEs' examples run as written, against the mock servers.
//
// Every ```ts / ```js block of README.md and packages/*/README.md is run here, in order, as an
// ES module (top-level await works), after pointAtMockServers() has replaced the placeholder
// URLs (test/support/readme-blocks.ts). It passes when it neither throws nor gets an error
// answer from the mock API. To make a new block runnable, use the placeholders and these
// well-known names, which a block may use without defining them (its own imports win):
//   createTokenProvider, withOAuth2, oauth2Interceptor, oauth2Hooks, axios, got,
//   tokenEndpoint, issuer, clientId ('svc-a'), clientSecret, order,
//   process.env.CLIENT_SECRET; clients 'svc-a', 'orders-service' and 'gateway' exist.
// A block that cannot run here (a browser, a person, a file of yours) gets, right above it:
//   <!-- not runnable: <why> -->
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { startMockAuthServer, startProtectedApi } from '@tokenwell/mock-server'
import { server as mswServer } from '@tokenwell/mock-server/msw'
import axios from 'axios'
import got from 'got'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCode, pointAtMockServers, readmeBlocks, readmeFiles, root } from './support/readme-blocks.js'

const SECRET = 'readme-example-secret'
const blocks = readmeFiles().flatMap(readmeBlocks).filter(isCode)
// one folder per run: CI runs the suite on Node 22 and 24 side by side in one checkout
const dir = `${root}test/.readme-examples/${process.pid}/`

let auth: Awaited<ReturnType<typeof startMockAuthServer>>
let api: Awaited<ReturnType<typeof startProtectedApi>>
beforeAll(async () => {
  const clients = ['svc-a', 'orders-service', 'gateway'].map((clientId) => ({
    clientId,
    clientSecret: SECRET,
  }))
  auth = await startMockAuthServer({ clients })
  api = await startProtectedApi({ authServer: auth })
  process.env['CLIENT_SECRET'] = SECRET
  mkdirSync(dir, { recursive: true })
})
afterAll(async () => {
  delete process.env['CLIENT_SECRET']
  rmSync(dir, { recursive: true, force: true })
  await api?.close()
  await auth?.close()
})

function wellKnownNames(): Record<string, unknown> {
  return {
    createTokenProvider,
    withOAuth2,
    oauth2Interceptor,
    oauth2Hooks,
    axios,
    got,
    tokenEndpoint: auth.tokenEndpoint,
    issuer: auth.issuer,
    clientId: 'svc-a',
    clientSecret: SECRET,
    order: { item: 42, quantity: 1 },
  }
}

async function run(code: string, file: string): Promise<void> {
  const names = wellKnownNames()
  const global = globalThis as Record<string, unknown>
  Object.assign(global, names)
  writeFileSync(file, `${code}\nexport {}\n`)
  try {
    await import(pathToFileURL(file).href)
  } finally {
    for (const name of Object.keys(names)) delete global[name]
    mswServer.close() // an msw example must not intercept the next one's loopback traffic
  }
}

describe('README examples', () => {
  it('finds the blocks (README.md, packages/*/README.md)', () => {
    expect(blocks.length).toBeGreaterThan(20)
    expect(blocks.some((b) => b.where.startsWith('README.md:'))).toBe(true)
  })

  const marked = blocks.filter((b) => b.notRunnable !== undefined)
  it.each(marked.map((b) => [b.where, b.notRunnable!]))(
    '%s says why it does not run: %s',
    (_where, reason) => {
      expect(reason.length).toBeGreaterThan(10)
    },
  )

  const runnable = blocks.filter((b) => b.notRunnable === undefined)
  it.each(runnable.map((b) => [b.where, b]))('%s runs against the mock servers', async (where, block) => {
    const apiBefore = api.requests.length
    const file = `${dir}${where.replace(/[^\w]+/g, '-')}.ts`
    const code = pointAtMockServers(block.code, {
      tokenEndpoint: auth.tokenEndpoint,
      issuer: auth.issuer,
      apiUrl: api.url,
    })
    await run(code, file).catch((error: unknown) => {
      throw new Error(
        `${where}: the example failed (${String(error)}). Make it run against the mock server (see the top of test/readme-examples.test.ts) or mark it with <!-- not runnable: why -->`,
        { cause: error },
      )
    })
    const failed = api.requests.slice(apiBefore).filter((r) => r.status >= 400)
    expect(failed.map((r) => `${r.method} ${r.path} → ${r.status}`)).toEqual([])
  })
})
