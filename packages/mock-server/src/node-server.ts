import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Promise<Response>

export interface ServeOptions {
  /** @default 0 (a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

/** A running loopback server. */
export interface ServedHandler {
  /** `http://host:port`, no trailing slash. */
  readonly url: string
  readonly port: number
  readonly server: Server
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>
}

/** A `node:http` request as a WHATWG `Request` (the body read in full). */
export async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  const method = req.method ?? 'GET'
  let body: Uint8Array<ArrayBuffer> | undefined
  if (method !== 'GET' && method !== 'HEAD') {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    body = new Uint8Array(Buffer.concat(chunks))
  }
  // concatenated, not resolved: a request target like `//x` must stay a path, not become a host
  return new Request(`${origin}${req.url ?? '/'}`, { method, headers, body: body ?? null })
}

/** Writes a WHATWG `Response` to a `node:http` response; an error response drops the connection. */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  if (response.type === 'error') {
    // a network error: drop the connection without an answer
    res.socket?.destroy()
    return
  }
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer())
  if (body !== undefined && !('content-length' in headers)) headers['content-length'] = String(body.length)
  res.writeHead(response.status, headers)
  res.end(body)
}

/**
 * Serves a fetch-style handler over `node:http`. Tuned for many concurrent loopback clients: no
 * connection limit, a large listen backlog, and a keep-alive timeout longer than clients' own (so
 * a client never reuses a socket the server is closing).
 */
export function serveFetchHandler(handler: FetchHandler, options: ServeOptions = {}): Promise<ServedHandler> {
  const host = options.host ?? '127.0.0.1'
  let origin = ''
  const server = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 120_000, noDelay: true },
    (req, res) => {
      // no AbortSignal per request: it is costly under load, and every handler here finishes on its own
      toRequest(req, origin)
        .then(handler)
        .then((response) => writeResponse(res, response))
        .catch(() => {
          if (!res.headersSent)
            res.writeHead(500, { 'content-type': 'text/plain' }).end('mock server failure')
          else res.destroy()
        })
    },
  )
  server.maxConnections = Number.POSITIVE_INFINITY
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: options.port ?? 0, host, backlog: 4096 }, () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
      resolve({
        url: origin,
        port,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()))
            server.closeAllConnections()
          }),
      })
    })
  })
}
