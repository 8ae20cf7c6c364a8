import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createMockAuthServer,
  createProtectedApi,
  type MockAuthServer,
  type MockAuthServerOptions,
  type ProtectedApi,
  type ServedHandler,
  serveFetchHandler,
} from '@tokenwell/mock-server'
import { build } from 'esbuild'

/** The system Chromium (`CHROMIUM_PATH`, or `chromium` on PATH), if this machine has one. */
export function findChromium(): string | undefined {
  const fromEnv = process.env['CHROMIUM_PATH']
  const candidates = fromEnv ? [fromEnv] : []
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      candidates.push(execFileSync('which', [name], { encoding: 'utf8' }).trim())
    } catch {}
  }
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Why the Chromium tests skip on this machine, or `undefined` when they can run. */
export function chromiumSkipReason(file: string): string | undefined {
  if (findChromium()) return undefined
  const reason = `${file}: skipped, no chromium binary (install it: apt-get install -y chromium)`
  console.warn(reason)
  return reason
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The page's script: test/support/browser-page.ts and the packages it imports, from their sources. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(esbuild) {
          // `@tokenwell/<name>` and a subpath entry `@tokenwell/<name>/<entry>` (its src/<entry>/index.ts)
          esbuild.onResolve({ filter: /^@tokenwell\/[a-z-]+(\/[a-z-]+)?$/ }, (args) => {
            const [name, entry] = args.path.slice('@tokenwell/'.length).split('/')
            return { path: `${root}packages/${name}/src/${entry === undefined ? '' : `${entry}/`}index.ts` }
          })
        },
      },
    ],
  })
  return result.outputFiles[0]!.text
}

/** Everything a page needs, on one loopback origin: the page, the authorization server, the API. */
export interface BrowserOrigin {
  readonly url: string
  readonly auth: MockAuthServer
  readonly api: ProtectedApi
  /** How often each refresh token was presented at the token endpoint. */
  readonly redeemed: Map<string, number>
  close(): Promise<void>
}

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>tokenwell</title><script type="module" src="/app.js"></script>'

/**
 * Serves `/app.js` (the page's bundle), `/as/*` and `/.well-known/*` (the mock authorization
 * server, issuer `${url}/as`), `/api/*` (the protected API), the API's `/echo…` and `/redirect`
 * unprefixed too (a DPoP proof names the URL the API sees), and the page at any other path (`/`,
 * `/callback`) from one `127.0.0.1` port. The API answers CORS (any origin, `null` too: the last
 * hop of a chain that passed through another origin), so a page reads every response it gets.
 */
export async function startBrowserOrigin(
  script: string,
  options: MockAuthServerOptions = {},
): Promise<BrowserOrigin> {
  let auth: MockAuthServer | undefined
  let api: ProtectedApi | undefined
  const redeemed = new Map<string, number>()
  const route = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    if (url.pathname === '/app.js')
      return new Response(script, { headers: { 'content-type': 'text/javascript' } })
    if (url.pathname === '/as/token' && request.method === 'POST') {
      const form = new URLSearchParams(await request.clone().text())
      const refreshToken = form.get('refresh_token')
      if (refreshToken !== null) redeemed.set(refreshToken, (redeemed.get(refreshToken) ?? 0) + 1)
    }
    if (url.pathname.startsWith('/as/') || url.pathname.startsWith('/.well-known/'))
      return auth!.handle(request)
    const direct = url.pathname.startsWith('/echo') || url.pathname === '/redirect'
    if (direct || url.pathname.startsWith('/api/')) {
      if (request.method === 'OPTIONS') return preflight(request)
      if (direct) return withCors(await api!.handle(request))
      const inner = new URL(url.pathname.slice('/api'.length) + url.search, url.origin)
      const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer()
      return withCors(
        await api!.handle(new Request(inner, { method: request.method, headers: request.headers, body })),
      )
    }
    return new Response(PAGE, { headers: { 'content-type': 'text/html' } }) // `/`, `/callback`, …
  }
  const served: ServedHandler = await serveFetchHandler(route)
  auth = createMockAuthServer({ ...options, issuer: `${served.url}/as` })
  api = createProtectedApi({ authServer: auth })
  return { url: served.url, auth, api, redeemed, close: served.close }
}

/** What another origin received: one entry per request, preflights included. */
export interface SeenRequest {
  method: string
  path: string
  authorization: boolean
  dpop: boolean
  /** A preflight's `Access-Control-Request-Headers` (lower case), else `''`. */
  requestHeaders: string
}

/** A second loopback origin that records what it receives. */
export interface RecordingOrigin {
  readonly url: string
  readonly seen: SeenRequest[]
  /** Requests or preflights that carried, or asked to carry, `Authorization` or `DPoP`. */
  credentialed(): SeenRequest[]
  close(): Promise<void>
}

/**
 * Another origin (its own `127.0.0.1` port) as a page's token must never reach it: it records each
 * request, grants every CORS preflight whatever headers it asks for (a token a page's client put
 * on a request would arrive, not be stopped by the browser), answers `/bounce?to=URL` with a 302
 * there and anything else with 200 `{}`.
 */
export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const seen: SeenRequest[] = []
  const served = await serveFetchHandler(async (request) => {
    const url = new URL(request.url)
    seen.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.has('authorization'),
      dpop: request.headers.has('dpop'),
      requestHeaders: (request.headers.get('access-control-request-headers') ?? '').toLowerCase(),
    })
    if (request.method === 'OPTIONS') return preflight(request)
    const to = url.pathname === '/bounce' ? url.searchParams.get('to') : null
    if (to !== null) return withCors(new Response(null, { status: 302, headers: { location: to } }))
    return withCors(Response.json({}))
  })
  return {
    url: served.url,
    seen,
    credentialed: () =>
      seen.filter((s) => s.authorization || s.dpop || /\b(authorization|dpop)\b/.test(s.requestHeaders)),
    close: served.close,
  }
}

/** A CORS preflight granted for any origin, method and headers. */
function preflight(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': request.headers.get('origin') ?? '*',
      'access-control-allow-methods': request.headers.get('access-control-request-method') ?? 'GET',
      'access-control-allow-headers': request.headers.get('access-control-request-headers') ?? '',
      'access-control-max-age': '0',
    },
  })
}

/** `response` readable by a page of any origin, its challenge headers too. */
function withCors(response: Response): Response {
  const headers = new Headers(response.headers)
  headers.set('access-control-allow-origin', '*')
  headers.set('access-control-expose-headers', 'www-authenticate, dpop-nonce')
  return new Response(response.body, { status: response.status, headers })
}
