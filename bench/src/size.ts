import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'
import { measurePages, type PageSize, shortInput } from './pages.js'

export interface BundleSpec {
  /** Name shown in tables. */
  readonly label: string
  /** The module a user writes, e.g. `export * from '@tokenwell/core'`. */
  readonly contents: string
  /** Packages left out of the bundle (the HTTP client a user already has). */
  readonly external: readonly string[]
}

export interface BundleSize {
  readonly label: string
  /** What the entry loads at once: minified bytes and gzipped bytes. */
  readonly minBytes: number
  readonly gzipBytes: number
  /** Chunks loaded later through `import()`, minified and gzipped (each gzipped on its own). */
  readonly lazyMinBytes: number
  readonly lazyGzipBytes: number
  /** Minified bytes each input file contributes to what loads at once, largest first. */
  readonly inputs: readonly { path: string; bytes: number }[]
}

/**
 * Bundles `spec.contents` as a user's bundler would (esbuild: ESM, minified, platform neutral,
 * runtime dependencies inlined, `import()` split into chunks) and gzips each output (level 9).
 */
export async function measureBundle(
  spec: BundleSpec,
  resolveDir: string,
  lazy?: RegExp,
): Promise<BundleSize> {
  const result = await build({
    // an estimate leaves modules out, as if they were loaded through import()
    plugins: lazy
      ? [
          {
            name: 'lazy',
            setup: (b) => b.onResolve({ filter: lazy }, (args) => ({ path: args.path, external: true })),
          },
        ]
      : [],
    absWorkingDir: resolveDir,
    stdin: { contents: spec.contents, resolveDir, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'module', 'default'],
    splitting: true,
    outdir: join(resolveDir, 'out'),
    write: false,
    metafile: true,
    external: [...spec.external],
    logLevel: 'silent',
    legalComments: 'none',
  })
  const metafile = result.metafile as Metafile
  const files = new Map(result.outputFiles.map((f) => [relative(resolveDir, f.path).split(sep).join('/'), f]))
  const entry = Object.keys(metafile.outputs).find((path) => metafile.outputs[path]!.entryPoint !== undefined)
  if (!entry) throw new Error(`${spec.label}: no entry chunk`)
  // what the entry pulls in statically is loaded at once; the rest only on import()
  const eager = new Set<string>()
  const visit = (path: string) => {
    if (eager.has(path)) return
    eager.add(path)
    for (const dep of metafile.outputs[path]!.imports)
      if (dep.kind === 'import-statement' && !dep.external) visit(dep.path)
  }
  visit(entry)
  let minBytes = 0
  let gzipBytes = 0
  let lazyMinBytes = 0
  let lazyGzipBytes = 0
  const inputs = new Map<string, number>()
  for (const [path, output] of Object.entries(metafile.outputs)) {
    if (!path.endsWith('.js')) continue
    const bytes = files.get(path)!.contents
    const gzip = gzipSync(bytes, { level: 9 }).length
    if (eager.has(path)) {
      minBytes += bytes.length
      gzipBytes += gzip
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        inputs.set(input, (inputs.get(input) ?? 0) + bytesInOutput)
      }
    } else {
      lazyMinBytes += bytes.length
      lazyGzipBytes += gzip
    }
  }
  return {
    label: spec.label,
    minBytes,
    gzipBytes,
    lazyMinBytes,
    lazyGzipBytes,
    inputs: [...inputs]
      .map(([path, bytes]) => ({ path: shortInput(path), bytes }))
      .sort((a, b) => b.bytes - a.bytes),
  }
}

export interface Footprint {
  /** Bytes of the package's published files and of every production dependency, recursively (peers excluded). */
  readonly bytes: number
  /** `name@version` of each package counted, the measured one first. */
  readonly packages: readonly string[]
  /** Bytes of each package in `packages`, same order. */
  readonly packageBytes: readonly number[]
}

interface PackageJson {
  name: string
  version: string
  files?: string[]
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

/**
 * The install footprint of the packages `names` as resolved from `fromDir`: the size of its files
 * plus those of its production dependencies (resolved as Node does, through `node_modules`),
 * each package counted once. A workspace package counts only what it would publish (`files`
 * plus package.json, README and LICENSE), as npm would pack it.
 */
export function installFootprint(names: readonly string[], fromDir: string): Footprint {
  const seen = new Set<string>()
  const packages: string[] = []
  const sizes: number[] = []
  const visit = (dir: string) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson
    const id = `${manifest.name}@${manifest.version}`
    if (seen.has(id)) return
    seen.add(id)
    packages.push(id)
    sizes.push(packageBytes(dir, manifest))
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies }
    for (const dep of Object.keys(deps)) {
      const depDir = resolvePackageDir(dep, dir)
      if (depDir) visit(depDir)
    }
  }
  for (const name of names) {
    const root = resolvePackageDir(name, fromDir)
    if (!root) throw new Error(`${name} is not installed under ${fromDir}`)
    visit(root)
  }
  return { bytes: sizes.reduce((a, b) => a + b, 0), packages, packageBytes: sizes }
}

/** The directory of package `name` as Node would find it from `fromDir` (symlinks resolved). */
export function resolvePackageDir(name: string, fromDir: string): string | undefined {
  let dir = realpathSync(fromDir)
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

const ALWAYS_PACKED = /^(package\.json|readme(\..*)?|license(\..*)?|licence(\..*)?)$/i

function packageBytes(dir: string, manifest: PackageJson): number {
  const published = dir.split(sep).includes('node_modules')
  if (published || !manifest.files) return treeBytes(dir)
  let total = 0
  for (const entry of readdirSync(dir)) {
    const included = ALWAYS_PACKED.test(entry) || manifest.files.some((f) => f.replace(/\/$/, '') === entry)
    if (included) total += treeBytes(join(dir, entry))
  }
  return total
}

function treeBytes(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  let total = 0
  for (const entry of readdirSync(path)) if (entry !== 'node_modules') total += treeBytes(join(path, entry))
  return total
}

const NODE_BUILTINS = [...builtinModules, 'node:*']

/** What a user bundles, one row each: package entries, typical imports and the alternatives. */
export const BUNDLES: readonly (BundleSpec & { readonly lazy?: RegExp; readonly note?: string })[] = [
  { label: '@tokenwell/core', contents: "export * from '@tokenwell/core'", external: [] },
  {
    label: '@tokenwell/core: createTokenProvider only',
    contents: "export { createTokenProvider } from '@tokenwell/core'",
    external: [],
    note: 'what a client_secret user imports',
  },
  { label: '@tokenwell/axios', contents: "export * from '@tokenwell/axios'", external: ['axios'] },
  { label: '@tokenwell/got', contents: "export * from '@tokenwell/got'", external: ['got'] },
  { label: '@tokenwell/fetch', contents: "export * from '@tokenwell/fetch'", external: [] },
  { label: '@tokenwell/redis', contents: "export * from '@tokenwell/redis'", external: ['redis', 'ioredis'] },
  {
    label: '@tokenwell/node',
    contents: "export * from '@tokenwell/node'",
    external: [],
    note: 'Node only; inlines undici for its TLS options',
  },
  {
    label: '@tokenwell/axios + createTokenProvider',
    contents:
      "export { oauth2Interceptor } from '@tokenwell/axios'; export { createTokenProvider } from '@tokenwell/core'",
    external: ['axios'],
    note: 'what an axios user ships',
  },
  {
    label: '@tokenwell/fetch + createTokenProvider',
    contents:
      "export { withOAuth2 } from '@tokenwell/fetch'; export { createTokenProvider } from '@tokenwell/core'",
    external: [],
    note: 'what a fetch user ships',
  },
  { label: 'axios-auth-refresh', contents: "export * from 'axios-auth-refresh'", external: ['axios'] },
  {
    label: 'axios-oauth-client + axios-token-interceptor',
    contents:
      "export * from 'axios-oauth-client'; export { default as tokenInterceptor } from 'axios-token-interceptor'",
    external: ['axios'],
  },
  { label: '@badgateway/oauth2-client', contents: "export * from '@badgateway/oauth2-client'", external: [] },
]

/** Install footprints: each of our packages and each alternative (several names: one install). */
export const FOOTPRINTS: readonly { label: string; packages: readonly string[] }[] = [
  { label: '@tokenwell/core', packages: ['@tokenwell/core'] },
  { label: '@tokenwell/axios', packages: ['@tokenwell/axios'] },
  { label: '@tokenwell/got', packages: ['@tokenwell/got'] },
  { label: '@tokenwell/fetch', packages: ['@tokenwell/fetch'] },
  { label: '@tokenwell/redis', packages: ['@tokenwell/redis'] },
  { label: '@tokenwell/node', packages: ['@tokenwell/node'] },
  { label: 'axios-auth-refresh', packages: ['axios-auth-refresh'] },
  {
    label: 'axios-oauth-client + axios-token-interceptor',
    packages: ['axios-oauth-client', 'axios-token-interceptor'],
  },
  { label: '@badgateway/oauth2-client', packages: ['@badgateway/oauth2-client'] },
]

export interface SizeResults {
  readonly bundles: readonly (BundleSize & { note?: string })[]
  readonly footprints: readonly (Footprint & { label: string })[]
  /** Browser pages bundled without code splitting (`PAGES`); absent in results from before they were measured. */
  readonly pages?: readonly PageSize[]
}

/** Every bundle and footprint above, resolved from `dir` (the bench package). */
export async function measureSizes(dir: string): Promise<SizeResults> {
  const bundles = []
  for (const spec of BUNDLES) {
    const size = await measureBundle(
      { ...spec, external: [...spec.external, ...NODE_BUILTINS] },
      dir,
      spec.lazy,
    )
    bundles.push({ ...size, ...(spec.note !== undefined && { note: spec.note }) })
  }
  const footprints = FOOTPRINTS.map(({ label, packages }) => ({ label, ...installFootprint(packages, dir) }))
  return { bundles, footprints, pages: await measurePages('dist') }
}
