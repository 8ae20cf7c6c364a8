import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AuthorizationError, ConfigError } from '@tokenwell/core'

export interface LoopbackRedirectOptions {
  /** The loopback address to listen on; RFC 8252 §8.3 prefers an IP literal to `localhost`. @default '127.0.0.1' */
  host?: '127.0.0.1' | '::1' | undefined
  /** @default 0 (any free port; register `http://127.0.0.1/callback` with a port-agnostic server, RFC 8252 §7.3) */
  port?: number | undefined
  /** @default '/callback' */
  path?: string | undefined
  /** How long `waitForCallback()` waits, ms. @default 300_000 */
  timeout?: number | undefined
}

export interface LoopbackRedirect {
  /** The redirect URI to put in the authorization URL and the token request. */
  readonly redirectUri: string
  /**
   * Resolves with the full callback URL once the browser comes back (check it with core's
   * `parseAuthorizationResponse`), then stops listening. Rejects with `AuthorizationError`
   * after `timeout` ms, or with the signal's reason.
   */
  waitForCallback(options?: { signal?: AbortSignal }): Promise<URL>
  /** Stops listening (also done after the callback). */
  close(): Promise<void>
}

const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p>`

/**
 * Listens on a loopback port for the authorization server's redirect, as native apps and CLIs
 * do: open the authorization URL in the browser, then await `waitForCallback()`. Only the
 * first request to `path` counts; the browser gets a page that says it may be closed.
 * @see RFC 8252 §7.3, §8.3
 * @example
 * const redirect = await startLoopbackRedirect()
 * const pkce = await createPkcePair()
 * const state = randomUrlSafe()
 * const url = await buildAuthorizationUrl({ issuer, clientId, redirectUri: redirect.redirectUri, state,
 *   codeChallenge: pkce.codeChallenge, scope: 'openid offline_access' })
 * console.error(`Open ${url}`)
 * const { code } = parseAuthorizationResponse(await redirect.waitForCallback(), { state, issuer })
 */
export async function startLoopbackRedirect(
  options: LoopbackRedirectOptions = {},
): Promise<LoopbackRedirect> {
  const { host = '127.0.0.1', port = 0, path = '/callback', timeout = 300_000 } = options
  if (host !== '127.0.0.1' && host !== '::1')
    throw new ConfigError('host must be 127.0.0.1 or ::1 (RFC 8252 §8.3)')
  if (!path.startsWith('/')) throw new ConfigError('path must start with "/"')
  let settle: { resolve: (url: URL) => void } | undefined
  let received: URL | undefined
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`)
    if (req.method !== 'GET' || url.pathname !== path || received) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found')
      return
    }
    received = new URL(`${redirectUri}${url.search}`)
    const failed = url.searchParams.has('error')
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'close',
      })
      .end(
        failed
          ? page('Sign-in failed', 'The authorization server refused the request. You can close this window.')
          : page('Signed in', 'You can close this window and return to the terminal.'),
      )
    settle?.resolve(received)
    void close()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const { port: actualPort } = server.address() as AddressInfo
  const redirectUri = `http://${host === '::1' ? '[::1]' : host}:${actualPort}${path}`
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    }))

  return {
    redirectUri,
    waitForCallback({ signal } = {}) {
      if (received) return Promise.resolve(received)
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => {
          void close()
          reject(new AuthorizationError(`no authorization response arrived within ${timeout} ms`))
        }, timeout)
        const onAbort = () => {
          clearTimeout(timer)
          void close()
          reject(signal?.reason)
        }
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort, { once: true })
        settle = {
          resolve: (url) => {
            clearTimeout(timer)
            signal?.removeEventListener('abort', onAbort)
            resolve(url)
          },
        }
      })
    },
    close,
  }
}
