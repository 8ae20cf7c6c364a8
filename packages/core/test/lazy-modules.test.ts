import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// Discovery, DPoP signing, JWT client assertions and the device poll are loaded through import()
// only when configured, so a client_secret provider does not bundle them. Bundlers keep them out
// of what loads at once only under these rules (esbuild and rolldown checked): a lazily loaded
// module is never imported statically nor re-exported by index.ts, and it imports nothing of the
// rest of core but jose.ts (which only lazy modules import; error classes are passed in). Any
// other import splits the code every user loads into one more chunk: 0.35 kB more gzipped for
// errors.ts alone.
const src = new URL('../src/', import.meta.url)
const files = readdirSync(src).filter((name) => name.endsWith('.ts'))
const source = (name: string) => readFileSync(new URL(name, src), 'utf8')
/** Relative modules a file imports statically (type-only imports excluded), as file names. */
const staticImports = (name: string) =>
  [
    ...source(name).matchAll(
      /^(?:import|export) (?!type )(?:(?!^import |^export )[\s\S])*? from '\.\/([\w-]+)\.js'/gm,
    ),
  ].map(([, module]) => `${module}.ts`)
const lazy = [
  ...new Set(files.flatMap((name) => [...source(name).matchAll(/import\('\.\/([\w-]+)\.js'\)/g)])),
].map(([, module]) => `${module}.ts`)

describe('lazily loaded modules', () => {
  it('are the ones the typical client_secret provider does without', () => {
    expect(new Set(lazy)).toEqual(
      new Set(['metadata.ts', 'dpop-proof.ts', 'client-assertion.ts', 'device-poll.ts']),
    )
  })

  it('are never imported statically or re-exported', () => {
    for (const name of files) {
      for (const module of staticImports(name))
        expect(lazy, `${name} imports ${module}`).not.toContain(module)
    }
  })

  it('import nothing of the rest of core but jose.ts', () => {
    for (const name of lazy) {
      for (const module of staticImports(name)) expect(module, `${name} imports ${module}`).toBe('jose.ts')
    }
    // jose.ts itself is only ever reached from lazy modules
    for (const name of files.filter((file) => !lazy.includes(file))) {
      expect(staticImports(name), name).not.toContain('jose.ts')
    }
  })
})
