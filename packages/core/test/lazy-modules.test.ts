import { readdirSync, readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { describe, expect, it } from 'vitest'

// Discovery, DPoP signing, jose and per-call tokens are loaded through import() only when used, so a
// client_secret provider does not load them at once from a split bundle (JWT client auth, DPoP,
// the device grant, discovery and revocation come from their own entries: without splitting, a provider that
// does not import them bundles none of them; see test/bundle-size.test.ts). Bundlers keep them out
// of what loads at once only under these rules (esbuild and rolldown checked): a lazily loaded
// module is never imported statically nor re-exported by index.ts, and it imports nothing of the
// rest of core but modules only lazy modules import (jose.ts, the scrubber's views and encodings;
// error classes are passed in). Any
// other import splits the code every user loads into one more chunk: 0.35 kB more gzipped for
// errors.ts alone.
const src = new URL('../src/', import.meta.url)
/** Every module of core, as a path relative to src/ (`dpop/dpop-proof.ts`). */
const files = (readdirSync(src, { recursive: true }) as string[])
  .map((name) => name.replaceAll('\\', '/'))
  .filter((name) => name.endsWith('.ts'))
const source = (name: string) => readFileSync(new URL(name, src), 'utf8')
/** `specifier` (`../crypto/jose.js`) as imported by `from` (`dpop/dpop-proof.ts`), as a path relative to src/. */
const resolve = (from: string, specifier: string) =>
  posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts')
/** Relative modules a file imports statically (type-only imports excluded). */
const staticImports = (name: string) =>
  [
    ...source(name).matchAll(
      /^(?:import|export) (?!type )(?:(?!^import |^export )[\s\S])*? from '(\.{1,2}\/[\w\-/.]+\.js)'/gm,
    ),
  ].map(([, module]) => resolve(name, module!))
const lazy = [
  ...new Set(
    files.flatMap((name) =>
      [...source(name).matchAll(/import\('(\.{1,2}\/[\w\-/.]+\.js)'\)/g)].map(([, m]) => resolve(name, m!)),
    ),
  ),
]

/** Modules that lazy modules import statically, and nothing else does: they load with them. */
const LAZY_ONLY = [
  'crypto/jose.ts',
  'redaction/printed-views.ts',
  'redaction/request-secrets.ts',
  'redaction/text-encodings.ts',
]

describe('lazily loaded modules', () => {
  it('are the ones the typical client_secret provider does without', () => {
    expect(new Set(lazy)).toEqual(
      new Set([
        'discovery/metadata.ts',
        'discovery/resource-metadata.ts',
        'dpop/dpop-proof.ts',
        'provider/call-tokens.ts',
        'redaction/scrub-error.ts',
        'redaction/secret-scrubber.ts',
      ]),
    )
  })

  it('are never imported statically or re-exported', () => {
    for (const name of files) {
      for (const module of staticImports(name))
        expect(lazy, `${name} imports ${module}`).not.toContain(module)
    }
  })

  it('import nothing of the rest of core but modules only lazy code reaches (jose.ts, the scrubber’s own)', () => {
    for (const name of [...lazy, ...LAZY_ONLY]) {
      for (const module of staticImports(name))
        expect(LAZY_ONLY, `${name} imports ${module}`).toContain(module)
    }
    // those are only ever reached from lazy modules (jose.ts also from the JWT entry's signer)
    for (const name of files.filter(
      (file) => ![...lazy, ...LAZY_ONLY, 'jwt/client-assertion.ts'].includes(file),
    )) {
      for (const module of LAZY_ONLY) expect(staticImports(name), name).not.toContain(module)
    }
  })
})
