import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTokenProvider, TokenRequestError, type TokenwellError } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { createNodeFetch, INSECURE_WARNING } from '@tokenwell/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** A self-signed certificate for 127.0.0.1 made by openssl, or the reason there is none. */
function selfSigned(): { cert: string; key: string } | string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-tls-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    )
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    }
  } catch (error) {
    return `openssl could not make a certificate (${(error as Error).message.split('\n')[0]})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const tls = selfSigned()
if (typeof tls === 'string') console.warn(`skipping the self-signed HTTPS tests: ${tls}`)

describe.skipIf(typeof tls === 'string')(
  'TLS options through @tokenwell/node (self-signed loopback HTTPS server)',
  () => {
    const { cert, key } = tls as { cert: string; key: string }
    let server: Server
    let issuer: string
    const hits = { metadata: 0, token: 0 }

    beforeAll(async () => {
      server = createServer({ cert, key }, (req, res) => {
        if (req.url === '/.well-known/oauth-authorization-server') {
          hits.metadata++
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token` }))
          return
        }
        hits.token++
        req
          .resume()
          .on('end', () =>
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(
                JSON.stringify({ access_token: `tls-${hits.token}`, token_type: 'Bearer', expires_in: 300 }),
              ),
          )
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    const provider = (fetch?: (request: Request) => Promise<Response>) =>
      createTokenProvider({
        tokenEndpoint: `${issuer}/token`,
        clientId: 'c',
        clientSecret: 's',
        retry: false,
        ...(fetch && { fetch }),
      })

    it('fails without the CA: the default fetch and a node fetch without ca both refuse the certificate', async () => {
      const before = hits.token
      const plain = (await provider()
        .getToken()
        .catch((e: unknown) => e)) as TokenwellError
      expect(plain).toBeInstanceOf(TokenRequestError)
      const nodeFetch = createNodeFetch()
      const error = (await provider(nodeFetch)
        .getToken()
        .catch((e: unknown) => e)) as TokenRequestError
      expect(error).toBeInstanceOf(TokenRequestError)
      expect(String((error.cause as Error)?.cause ?? error.cause)).toMatch(/self.signed|certificate/i)
      expect(hits.token).toBe(before)
      await nodeFetch.close()
    })

    it('works with ca: the self-signed certificate is trusted, for discovery and the token request', async () => {
      const nodeFetch = createNodeFetch({ ca: cert })
      const before = { ...hits }
      const token = await provider(nodeFetch).getToken()
      expect(token.accessToken).toMatch(/^tls-/)
      const discovered = createTokenProvider({
        discovery,
        issuer,
        clientId: 'c',
        clientSecret: 's',
        fetch: nodeFetch,
      })
      await discovered.getToken()
      expect(hits).toEqual({ metadata: before.metadata + 1, token: before.token + 2 })
      await nodeFetch.close()
    })

    it('works with insecure, and warns once when created', async () => {
      const warnings: string[] = []
      const nodeFetch = createNodeFetch({ insecure: true, onWarning: (message) => warnings.push(message) })
      expect(warnings).toEqual([INSECURE_WARNING])
      const token = await provider(nodeFetch).getToken()
      expect(token.accessToken).toMatch(/^tls-/)
      expect(warnings).toHaveLength(1)
      await nodeFetch.close()
    })

    it('serves as a general fetch: method, headers, body and status come through', async () => {
      const nodeFetch = createNodeFetch({ ca: cert })
      const response = await nodeFetch(`${issuer}/token`, {
        method: 'POST',
        body: 'a=1',
        headers: { 'x-test': '1' },
      })
      expect(response).toBeInstanceOf(Response)
      expect(response.status).toBe(200)
      expect(response.url).toBe(`${issuer}/token`)
      expect(await response.json()).toMatchObject({ token_type: 'Bearer' })
      await nodeFetch.close()
    })
  },
)
