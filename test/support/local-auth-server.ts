// A stand-in with the subset of @tokenwell/mock-server's API that the fleet test uses
// (startMockAuthServer, startProtectedApi), until that package lands.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export interface LocalAuthServer {
  url: string
  tokenEndpoint: string
  stats: { tokenRequests: number; tokensIssued: number }
  setLatency(ms: number): void
  revokeAll(): void
  verify(token: string): boolean
  close(): Promise<void>
}

export async function startMockAuthServer(): Promise<LocalAuthServer> {
  const valid = new Set<string>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let latency = 0
  const stats = { tokenRequests: 0, tokensIssued: 0 }
  const expected = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`
  const server = await listen(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/token') return send(res, 404, { error: 'not_found' })
    stats.tokenRequests++
    await readBody(req)
    const delay = latency
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer)
          resolve()
        }, delay)
        timers.add(timer)
      })
    }
    if (req.headers.authorization !== expected) return send(res, 401, { error: 'invalid_client' })
    const token = randomBytes(16).toString('hex')
    valid.add(token)
    stats.tokensIssued++
    send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 300 })
  })
  const url = urlOf(server)
  return {
    url,
    tokenEndpoint: `${url}/token`,
    stats,
    setLatency: (ms) => {
      latency = ms
    },
    revokeAll: () => valid.clear(),
    verify: (token) => valid.has(token),
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      await close(server)
    },
  }
}

export async function startProtectedApi(options: { authServer: LocalAuthServer }) {
  const stats = { requests: 0, unauthorized: 0 }
  const server = await listen(async (req, res) => {
    stats.requests++
    await readBody(req)
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (!token || !options.authServer.verify(token)) {
      stats.unauthorized++
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"')
      return send(res, 401, { error: 'invalid_token' })
    }
    send(res, 200, { path: req.url, authorized: true })
  })
  return { url: urlOf(server), stats, close: () => close(server) }
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}
