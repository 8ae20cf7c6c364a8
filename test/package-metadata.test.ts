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
