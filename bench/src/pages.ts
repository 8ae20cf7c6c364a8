import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Metafile, type Plugin } from 'esbuild'

/** A browser page as a user writes it: what it imports and calls, nothing else. */
export interface PageSpec {
  /** Name shown in tables. */
  readonly label: string
  /** The page's module. */
  readonly contents: string
  /** The most it may weigh, min+gzip bytes (our pages only). */
  readonly budget?: number
}

export interface PageSize {
  readonly label: string
  readonly minBytes: number
  readonly gzipBytes: number
  readonly budget?: number
  /** Minified bytes each input file contributes, largest first. */
  readonly inputs: readonly { path: string; bytes: number }[]
}

const root = fileURLToPath(new URL('../../', import.meta.url))

const clientCredentials = (store: string) => `
import { createTokenProvider } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
${store ? "import { createBrowserTokenStore } from '@tokenwell/browser'" : ''}
const provider = createTokenProvider({
  tokenEndpoint: 'https://auth.example.com/oauth2/token',
  clientId: 'spa',
  clientSecret: 'not-a-secret',
  scope: 'orders:read',${store ? '\n  store: createBrowserTokenStore(),' : ''}
})
const api = withOAuth2(provider)
document.body.textContent = JSON.stringify(await (await api('https://api.example.com/orders')).json())
`

const authorizationCode = (store: string) => `
import { buildAuthorizationUrl, createPkcePair, createTokenProvider, parseAuthorizationResponse, randomUrlSafe } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
${store ? "import { createBrowserTokenStore } from '@tokenwell/browser'" : ''}
const redirectUri = location.origin + '/callback'
if (location.pathname !== '/callback') {
  const pkce = await createPkcePair()
  const state = randomUrlSafe()
  sessionStorage.setItem('pkce', JSON.stringify({ state, codeVerifier: pkce.codeVerifier }))
  location.assign(await buildAuthorizationUrl({
    authorizationEndpoint: 'https://auth.example.com/oauth2/authorize',
    clientId: 'spa', redirectUri, scope: 'openid offline_access', state, codeChallenge: pkce.codeChallenge,
  }))
} else {
  const { state, codeVerifier } = JSON.parse(sessionStorage.getItem('pkce'))
  const { code } = parseAuthorizationResponse(location.href, { state })
  const provider = createTokenProvider({
    tokenEndpoint: 'https://auth.example.com/oauth2/token',
    clientId: 'spa',
    clientAuth: 'none',
    grant: { type: 'authorization_code', code, redirectUri, codeVerifier },${store ? '\n    store: createBrowserTokenStore(),' : ''}
  })
  const api = withOAuth2(provider)
  document.body.textContent = JSON.stringify(await (await api('https://api.example.com/orders')).json())
}
`

/** Our browser pages and the smallest peer's, with the budgets of issue 15. */
export const PAGES: readonly PageSpec[] = [
  {
    label: 'page: client_credentials + withOAuth2',
    contents: clientCredentials(''),
    budget: 8_000,
  },
  {
    label: 'page: client_credentials + withOAuth2 + createBrowserTokenStore',
    contents: clientCredentials('store'),
    budget: 10_000,
  },
  {
    label: 'page: authorization code + PKCE + refresh + withOAuth2',
    contents: authorizationCode(''),
    budget: 8_000,
  },
  {
    label: 'page: authorization code + PKCE + refresh + withOAuth2 + createBrowserTokenStore',
    contents: authorizationCode('store'),
    budget: 10_000,
  },
  {
    label: 'page: @badgateway/oauth2-client client_credentials + OAuth2Fetch',
    contents: `
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
const client = new OAuth2Client({ server: 'https://auth.example.com/', tokenEndpoint: '/oauth2/token', clientId: 'spa', clientSecret: 'not-a-secret' })
const api = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials({ scope: ['orders:read'] }) })
document.body.textContent = JSON.stringify(await (await api.fetch('https://api.example.com/orders')).json())
`,
  },
]

/**
 * `@tokenwell/<name>` and its subpath entries as an installed copy resolves them (its
 * package.json `exports`, to dist/), whether or not the bench lists the package.
 */
/** `@tokenwell/core/adapter` from the sources as its `browser` condition resolves it (the root tsconfig maps it to Node's). */
const browserSources: Plugin = {
  name: 'browser-sources',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@tokenwell\/core\/adapter$/ }, () => ({
      path: `${root}packages/core/src/adapter/browser.ts`,
    }))
  },
}

const builtPackages: Plugin = {
  name: 'built-packages',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@tokenwell\/[a-z-]+(\/[a-z-]+)?$/ }, (args) => {
      if (args.pluginData === 'self') return undefined
      const name = args.path.split('/')[1]!
      // a package resolves its own name through its exports (self-reference)
      return esbuild.resolve(args.path, {
        kind: args.kind,
        resolveDir: `${root}packages/${name}`,
        pluginData: 'self',
      })
    })
  },
}

/**
 * Bundles one page as a browser app's build would: esbuild `--bundle --minify --format=esm
 * --platform=browser`, no code splitting (every `import()` inlined), gzip level 9. `from: 'src'`
 * resolves @tokenwell/* to the sources through the root tsconfig paths (no build needed, for the
 * test); `'dist'` to the built packages, as an installed copy resolves.
 */
export async function measurePage(page: PageSpec, from: 'src' | 'dist'): Promise<PageSize> {
  // the bench package: the peers are its dependencies; the tsconfig paths point at the sources
  const resolveDir = fileURLToPath(new URL('../', import.meta.url))
  const result = await build({
    absWorkingDir: resolveDir,
    stdin: { contents: page.contents, resolveDir, loader: 'js', sourcefile: 'page.js' },
    ...(from === 'src'
      ? { tsconfig: `${root}tsconfig.json`, plugins: [browserSources] }
      : { tsconfigRaw: '{}', plugins: [builtPackages] }),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting: false,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  })
  const output = result.outputFiles[0]!.contents
  const metafile = result.metafile as Metafile
  const inputs = Object.values(metafile.outputs)[0]!.inputs
  return {
    label: page.label,
    minBytes: output.length,
    gzipBytes: gzipSync(output, { level: 9 }).length,
    ...(page.budget !== undefined && { budget: page.budget }),
    inputs: Object.entries(inputs)
      .map(([path, { bytesInOutput }]) => ({ path: shortInput(path), bytes: bytesInOutput }))
      .filter((i) => i.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes),
  }
}

/** `node_modules/.pnpm/jose@6.1.0/node_modules/jose/dist/x.js` -> `jose/dist/x.js`; workspace paths from `packages/`. */
export function shortInput(path: string): string {
  const inModules = path.lastIndexOf('node_modules/')
  if (inModules >= 0) return path.slice(inModules + 'node_modules/'.length)
  const inPackages = path.indexOf('packages/')
  return inPackages >= 0 ? path.slice(inPackages) : path
}

/** Every page, bundled one after another. */
export async function measurePages(from: 'src' | 'dist'): Promise<PageSize[]> {
  const sizes = []
  for (const page of PAGES) sizes.push(await measurePage(page, from))
  return sizes
}

// `node --import tsx bench/src/pages.ts [--inputs]`: print each page's size (from the sources)
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const size of await measurePages(process.argv.includes('--dist') ? 'dist' : 'src')) {
    const budget = size.budget === undefined ? '' : ` (budget ${(size.budget / 1000).toFixed(1)} kB)`
    console.log(`${(size.gzipBytes / 1000).toFixed(2).padStart(6)} kB  ${size.label}${budget}`)
    if (process.argv.includes('--inputs'))
      for (const i of size.inputs.slice(0, 40))
        console.log(`          ${String(i.bytes).padStart(6)} ${i.path}`)
  }
}
