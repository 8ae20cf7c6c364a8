import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { run } from './memory-io.js'

describe('commands and help', () => {
  it.each([
    [['--help'], 'Usage: tokenwell <command>'],
    [['-h'], 'Usage: tokenwell <command>'],
    [['help'], 'Usage: tokenwell <command>'],
    [['help', 'token'], 'Usage: tokenwell token'],
    [['token', '--help'], 'Usage: tokenwell token'],
    [['token', '-h', '--bogus'], 'Usage: tokenwell token'],
    [['help', 'demo'], 'Usage: tokenwell demo'],
    [['demo', '--help'], 'Usage: tokenwell demo'],
  ])('%j prints help on stdout and exits 0', async (argv, first) => {
    const result = await run(argv)
    expect(result.code).toBe(0)
    expect(result.stdout.startsWith(first)).toBe(true)
    expect(result.stderr).toBe('')
  })

  it('documents every exit code and output mode in the token help', async () => {
    const { stdout } = await run(['token', '--help'])
    for (const text of [
      '--output token|json|header',
      '--client-secret-env',
      '--ca FILE',
      '--insecure',
      'Exit status',
    ]) {
      expect(stdout).toContain(text)
    }
  })

  it.each([
    [[], /no command given/, 'Usage: tokenwell <command>'],
    [['fetch'], /unknown command "fetch"/, 'Usage: tokenwell <command>'],
    [['help', 'nope'], /unknown command "nope"/, 'Usage: tokenwell <command>'],
    [['demo', '--calls', '0'], /--calls must be a whole number/, 'Usage: tokenwell demo'],
    [['demo', '--calls', 'many'], /--calls must be a whole number/, 'Usage: tokenwell demo'],
    [['demo', '--nope'], /Unknown option '--nope'/, 'Usage: tokenwell demo'],
  ])('%j is bad usage: exit 2 with the usage line on stderr', async (argv, message, usage) => {
    const result = await run(argv)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toContain(`\n${usage}`)
  })

  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })
})
