import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { INSECURE_WARNING } from '@tokenwell/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeBundle, runCli } from './subprocess.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const CLIENT_SECRET = 'tls-cs-4c1d7e9f'
const ACCESS_TOKEN = 'tls-at-8b2a6f0d'

let server: Server
let tokenEndpoint: string
beforeAll(async () => {
  // an HTTPS token endpoint whose certificate is signed by a CA nobody trusts by default
  server = createServer({
    cert: readFileSync(fixture('server.pem')),
    key: readFileSync(fixture('server-key.pem')),
  })
  server.on('request', (request, response) => {
    request.resume().on('end', () => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 60 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  tokenEndpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`
})
afterAll(async () => {
  removeBundle()
  await new Promise((resolve) => server.close(resolve))
})

const base = () => [
  'token',
  '--token-endpoint',
  tokenEndpoint,
  '--client-id',
  'c',
  '--client-secret-env',
  'CS',
]
const env = { CS: CLIENT_SECRET }

describe.concurrent('TLS (subprocess)', { timeout: 30_000 }, () => {
  it('refuses a certificate from an unknown CA: exit 1, naming --ca', async () => {
    const result = await runCli(base(), { env })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /^tokenwell: token request failed: network error \(.*--ca FILE trusts its CA\) \[ERR_TOKEN_REQUEST\]\n$/,
    )
  })

  it('trusts that CA with --ca FILE', async () => {
    const result = await runCli([...base(), '--ca', fixture('ca.pem')], { env })
    expect(result).toEqual({ code: 0, stdout: `${ACCESS_TOKEN}\n`, stderr: '' })
  })

  it('skips verification with --insecure, warning on stderr', async () => {
    const result = await runCli([...base(), '--insecure'], { env })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${ACCESS_TOKEN}\n`)
    expect(result.stderr).toBe(`${INSECURE_WARNING}\n`)
  })
})
