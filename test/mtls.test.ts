import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '@tokenwell/cli'
import { createTokenProvider, OAuthError, TokenRequestError } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { revocation } from '@tokenwell/core/revocation'
import {
  type RunningMockAuthServerTls,
  type RunningProtectedApi,
  startMockAuthServerTls,
  startProtectedApiTls,
} from '@tokenwell/mock-server'
import { createNodeFetch, type NodeFetch } from '@tokenwell/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface Pki {
  ca: string
  server: { cert: string; key: string }
  client: { cert: string; key: string }
  selfSigned: { cert: string; key: string }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate it issued, and a self-signed client certificate, made by openssl; or why not. */
function makePki(): Pki | string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-mtls-'))
  const at = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  try {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=tokenwell test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    )
    writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1\n')
    writeFileSync(at('client.ext'), 'extendedKeyUsage=clientAuth\n')
    for (const [name, subject] of [
      ['server', '/CN=127.0.0.1'],
      ['client', '/CN=svc-mtls/O=tokenwell'],
    ] as const) {
      openssl('req', ...ec, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`)
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      )
    }
    openssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=self-signed client',
      '-keyout',
      'self.key',
      '-out',
      'self.pem',
    )
    const read = (name: string) => readFileSync(at(name), 'utf8')
    return {
      ca: read('ca.pem'),
      server: { cert: read('server.pem'), key: read('server.key') },
      client: { cert: read('client.pem'), key: read('client.key') },
      selfSigned: { cert: read('self.pem'), key: read('self.key') },
    }
  } catch (error) {
    return `openssl could not make the certificates (${(error as Error).message.split('\n')[0]})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** RFC 8705 §3.1 `x5t#S256`, computed here independently of the mock server. */
const thumbprint = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url')
/** The base64 DER of a PEM certificate: its `x5c` entry. */
const x5c = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')

const pki = makePki()
if (typeof pki === 'string') console.warn(`skipping the mutual TLS tests: ${pki}`)

describe.skipIf(typeof pki === 'string')('mutual TLS against the mock servers (RFC 8705)', () => {
  const { ca, server, client, selfSigned } = pki as Pki
  const tls = { ...server, ca }
  let auth: RunningMockAuthServerTls
  let api: RunningProtectedApi
  const fetches: NodeFetch[] = []
  const nodeFetch = (options: Parameters<typeof createNodeFetch>[0]) => {
    const fetch = createNodeFetch({ ca, ...options })
    fetches.push(fetch)
    return fetch
  }

  beforeAll(async () => {
    auth = await startMockAuthServerTls({
      tls,
      clients: [
        {
          clientId: 'svc-mtls',
          authMethods: ['tls_client_auth'],
          tlsClientAuthSubjectDn: 'CN=svc-mtls, O=tokenwell',
        },
        {
          clientId: 'self-svc',
          authMethods: ['self_signed_tls_client_auth'],
          jwks: { keys: [{ kty: 'EC', crv: 'P-256', x5c: [x5c(selfSigned.cert)] } as JsonWebKey] },
        },
      ],
    })
    api = await startProtectedApiTls({ authServer: auth, tls })
  })
  afterAll(async () => {
    await Promise.all(fetches.map((fetch) => fetch.close()))
    await api?.close()
    await auth?.close()
  })

  const provider = (clientId: string, fetch: NodeFetch) =>
    createTokenProvider({
      revocation,
      discovery,
      issuer: auth.issuer,
      clientId,
      clientAuth: 'tls_client_auth',
      fetch,
      retry: false,
    })

  it('tls_client_auth with the CA-issued certificate: a token from the mTLS alias, bound to that certificate', async () => {
    auth.stats.reset()
    const p = provider('svc-mtls', nodeFetch({ cert: client.cert, key: client.key }))
    const token = await p.getToken()
    expect(p.keyInfo.tokenEndpoint).toBe(`${auth.mtlsUrl}/token`)
    expect(auth.stats.tokensIssued).toBe(1)
    expect(auth.requests[0]).toMatchObject({
      clientId: 'svc-mtls',
      clientAuth: 'tls_client_auth',
      status: 200,
    })
    const claims = await auth.verifyAccessToken(token.accessToken)
    expect(claims?.cnf).toEqual({ 'x5t#S256': thumbprint(client.cert) })
  })

  it('without a certificate: invalid_client, and no token issued', async () => {
    auth.stats.reset()
    const error = await provider('svc-mtls', nodeFetch({}))
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client', status: 401 })
    expect(auth.stats.tokensIssued).toBe(0)
  })

  it('another certificate than the registered one: invalid_client', async () => {
    auth.stats.reset()
    const error = await provider('svc-mtls', nodeFetch({ cert: selfSigned.cert, key: selfSigned.key }))
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client' })
    expect(auth.stats.tokensIssued).toBe(0)
  })

  it('self_signed_tls_client_auth with the registered self-signed certificate, and not with another', async () => {
    auth.stats.reset()
    const selfProvider = (fetch: NodeFetch) =>
      createTokenProvider({
        revocation,
        discovery,
        issuer: auth.issuer,
        clientId: 'self-svc',
        clientAuth: 'self_signed_tls_client_auth',
        fetch,
        retry: false,
      })
    const token = await selfProvider(nodeFetch({ cert: selfSigned.cert, key: selfSigned.key })).getToken()
    expect((await auth.verifyAccessToken(token.accessToken))?.cnf).toEqual({
      'x5t#S256': thumbprint(selfSigned.cert),
    })
    const error = await selfProvider(nodeFetch({ cert: client.cert, key: client.key }))
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client' })
    expect(auth.stats.tokensIssued).toBe(1)
  })

  it('the protected API accepts a bound token only over the certificate it is bound to', async () => {
    const withCert = nodeFetch({ cert: client.cert, key: client.key })
    const token = await provider('svc-mtls', withCert).getToken()
    const headers = { authorization: `Bearer ${token.accessToken}` }
    api.stats.reset()
    expect((await withCert(`${api.url}/echo`, { headers })).status).toBe(200)
    expect((await nodeFetch({})(`${api.url}/echo`, { headers })).status).toBe(401)
    expect(
      (await nodeFetch({ cert: selfSigned.cert, key: selfSigned.key })(`${api.url}/echo`, { headers }))
        .status,
    ).toBe(401)
    expect(api.stats).toMatchObject({ requests: 3, unauthorized: 2 })
  })

  it('revokes at the mTLS alias of the revocation endpoint, with the certificate', async () => {
    const withCert = nodeFetch({ cert: client.cert, key: client.key })
    const p = provider('svc-mtls', withCert)
    const token = await p.getToken()
    auth.stats.reset()
    expect(await p.revoke()).toEqual({ refreshToken: false, accessToken: true })
    expect(auth.stats.revocationRequests).toBe(1)
    const headers = { authorization: `Bearer ${token.accessToken}` }
    expect((await withCert(`${api.url}/echo`, { headers })).status).toBe(401)
  })

  it('a listener that requires a certificate refuses the handshake without one: no HTTP request arrives', async () => {
    const strict = await startMockAuthServerTls({
      tls: { ...tls, requireClientCertificate: true },
      clients: [
        {
          clientId: 'svc-mtls',
          authMethods: ['tls_client_auth'],
          tlsClientAuthSubjectDn: 'CN=svc-mtls,O=tokenwell',
        },
      ],
    })
    try {
      const ask = (fetch: NodeFetch) =>
        createTokenProvider({
          revocation,
          discovery,
          issuer: strict.issuer,
          clientId: 'svc-mtls',
          clientAuth: 'tls_client_auth',
          fetch,
          retry: false,
        })
          .getToken()
          .catch((e: unknown) => e)
      const refused = await ask(nodeFetch({}))
      expect(refused).toBeInstanceOf(TokenRequestError)
      expect(strict.stats.tokenRequests).toBe(0)
      const token = await ask(nodeFetch({ cert: client.cert, key: client.key }))
      expect(token).toMatchObject({ tokenType: 'Bearer' })
      expect(strict.stats.tokenRequests).toBe(1)
    } finally {
      await strict.close()
    }
  })

  describe('tokenwell token --client-auth tls --cert FILE --key-file FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenwell-cli-mtls-'))
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text, { mode: 0o600 })
      return join(dir, name)
    }
    const files = {
      ca: file('ca.pem', ca),
      cert: file('client.pem', client.cert),
      key: file('client.key', client.key),
    }
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    async function cli(...argv: string[]) {
      const out: string[] = []
      const err: string[] = []
      const code = await main(
        ['token', '--issuer', auth.issuer, '--client-id', 'svc-mtls', '--ca', files.ca, ...argv],
        {
          stdout: { write: (text: string) => out.push(text) },
          stderr: { write: (text: string) => err.push(text) },
          stdin: (async function* () {})(),
          env: {},
        },
      )
      return { code, stdout: out.join(''), stderr: err.join('') }
    }
    const keyBody = client.key.split('\n')[1]!

    it('gets a token bound to the certificate from the mTLS alias; the key is in no output', async () => {
      auth.stats.reset()
      const result = await cli('--client-auth', 'tls', '--cert', files.cert, '--key-file', files.key)
      expect(result).toMatchObject({ code: 0, stderr: '' })
      const claims = await auth.verifyAccessToken(result.stdout.trim())
      expect(claims?.cnf).toEqual({ 'x5t#S256': thumbprint(client.cert) })
      expect(auth.requests[0]).toMatchObject({
        clientId: 'svc-mtls',
        clientAuth: 'tls_client_auth',
        status: 200,
      })
      expect(`${result.stdout}${result.stderr}`).not.toContain(keyBody)
    })

    it.each([
      [['--client-auth', 'tls'], '--client-auth tls needs --cert FILE'],
      [['--client-auth', 'tls', '--cert', files.cert], '--cert needs its key'],
      [['--client-auth', 'none', '--key-file', files.key], 'a TLS client key applies to --cert only'],
      [
        ['--client-auth', 'tls', '--cert', files.key, '--key-file', files.key],
        `--cert ${files.key} holds no PEM certificate`,
      ],
    ])('%j → exit 2, naming what is wrong, no request sent', async (argv, message) => {
      auth.stats.reset()
      const result = await cli(...argv)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(message)
      expect(result.stderr).not.toContain(keyBody)
      expect(auth.stats.tokenRequests).toBe(0)
    })
  })
})
