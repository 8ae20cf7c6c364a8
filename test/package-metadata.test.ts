import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// What every published package must carry; `pnpm check:package` (publint --strict, attw) checks
// the packed tarballs themselves, in CI.
const root = fileURLToPath(new URL('..', import.meta.url))
const dirs = readdirSync(`${root}packages`).filter((dir) => existsSync(`${root}packages/${dir}/package.json`))
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8')

describe.each(dirs)('packages/%s', (dir) => {
  const pkg = JSON.parse(read(`packages/${dir}/package.json`))

  it('ships the MIT LICENSE of the root, a README and a CHANGELOG', () => {
    expect(pkg.license).toBe('MIT')
    expect(read(`packages/${dir}/LICENSE`)).toBe(read('LICENSE'))
    expect(read('LICENSE')).toContain('tokenwell contributors')
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'LICENSE', 'README.md', 'CHANGELOG.md']))
    expect(existsSync(`${root}packages/${dir}/README.md`)).toBe(true)
    expect(existsSync(`${root}packages/${dir}/CHANGELOG.md`)).toBe(true)
  })

  it('says where it comes from: repository with its directory, homepage, bugs, keywords, description', () => {
    expect(pkg.repository).toEqual({
      type: 'git',
      url: expect.stringMatching(/^git\+https:/),
      directory: `packages/${dir}`,
    })
    expect(pkg.homepage).toContain(`packages/${dir}`)
    expect(pkg.bugs.url).toMatch(/^https:/)
    expect(pkg.keywords.length).toBeGreaterThan(2)
    expect(pkg.description.length).toBeGreaterThan(20)
  })

  it('is ESM with types, checked by publint and attw when packed, built without stale files or maps', () => {
    expect(pkg.type).toBe('module')
    expect(pkg.engines.node).toBe('>=20.19')
    expect(pkg.exports['.'].types).toMatch(/\.d\.ts$/)
    expect(pkg.scripts['check:package']).toBe('publint --strict && attw --pack --profile esm-only')
    expect(pkg.scripts.build).toMatch(/^rm -rf dist && tsc -p tsconfig\.build\.json$/)
  })

  it('declares no empty peer dependencies, and every peer is also a dev dependency it is tested with', () => {
    if ('peerDependencies' in pkg) expect(Object.keys(pkg.peerDependencies).length).toBeGreaterThan(0)
    for (const name of Object.keys(pkg.peerDependencies ?? {}))
      expect(pkg.devDependencies?.[name]).toBeDefined()
  })
})

it('emits no source maps: they would point at src/*.ts, which the tarballs do not ship', () => {
  expect(JSON.parse(read('tsconfig.base.json')).compilerOptions.sourceMap).toBe(false)
  for (const dir of dirs) {
    const build = JSON.parse(read(`packages/${dir}/tsconfig.build.json`)).compilerOptions
    expect(build.sourceMap ?? false).toBe(false)
    expect(build.declarationMap ?? false).toBe(false)
  }
})

describe('source layout (issues 11 and 14)', () => {
  /** Every `.ts` file under `dir`, relative to the root. */
  const sources = (dir: string): string[] =>
    readdirSync(`${root}${dir}`, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? sources(`${dir}/${entry.name}`)
        : entry.name.endsWith('.ts')
          ? [`${dir}/${entry.name}`]
          : [],
    )
  const lines = (path: string) => read(path).split('\n').length - 1

  it.each(['axios', 'got', 'fetch', 'undici', 'ky'])(
    'the %s adapter is a translation: src ≤ 150 lines',
    (name) => {
      const total = sources(`packages/${name}/src`).reduce((sum, path) => sum + lines(path), 0)
      expect(total).toBeLessThanOrEqual(150)
    },
  )

  it('no package imports itself in a circle (value imports between its src files)', () => {
    const files = dirs.flatMap((dir) =>
      existsSync(`${root}packages/${dir}/src`) ? sources(`packages/${dir}/src`) : [],
    )
    const imports = new Map<string, string[]>()
    for (const file of files) {
      const found = read(file).matchAll(
        /^(?:import|export) (?!type )[^'"]*?from '(\.[^']+)'|import\('(\.[^']+)'\)/gm,
      )
      const dir = file.slice(0, file.lastIndexOf('/'))
      imports.set(
        file,
        [...found].map((m) =>
          new URL((m[1] ?? m[2])!.replace(/\.js$/, '.ts'), `file:///${dir}/`).pathname.slice(1),
        ),
      )
    }
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open')
      for (const next of imports.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '))
        else if (!state.has(next)) visit(next, [...path, next])
      }
      state.set(file, 'done')
    }
    for (const file of files) if (!state.has(file)) visit(file, [file])
    expect(imports.get('packages/core/src/provider/token-provider.ts')?.length).toBeGreaterThan(3)
    expect(cycles).toEqual([])
  })
})
