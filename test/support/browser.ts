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
 * server, issuer `${url}/as`), `/api/*` (the protected API) and the page at any other path (`/`,
 * `/callback`) from one `127.0.0.1` port.
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
    if (url.pathname.startsWith('/api/')) {
      const inner = new URL(url.pathname.slice('/api'.length) + url.search, url.origin)
      const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer()
      return api!.handle(new Request(inner, { method: request.method, headers: request.headers, body }))
    }
    return new Response(PAGE, { headers: { 'content-type': 'text/html' } }) // `/`, `/callback`, …
  }
  const served: ServedHandler = await serveFetchHandler(route)
  auth = createMockAuthServer({ ...options, issuer: `${served.url}/as` })
  api = createProtectedApi({ authServer: auth })
  return { url: served.url, auth, api, redeemed, close: served.close }
}
