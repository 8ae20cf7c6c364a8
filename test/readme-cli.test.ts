// The READMEs' `tokenwell` examples run as subprocesses against the mock server.
//
// In every ```sh and ```console block (unless marked <!-- not runnable: why -->), each
// `tokenwell token …` command runs with its placeholder URLs pointed at the mock server
// (pointAtMockServers, plus http://127.0.0.1:8080 → the mock server) and CLIENT_SECRET set to
// the client's secret, unless the command sets it itself. A console block's shown lines must
// match what the command printed (`…` stands for anything), and `$ echo $?` its exit status;
// a sh block's command must exit 0 with a token the server issued. `tokenwell login` needs a
// person and `tokenwell demo` is checked by packages/cli/test/demo.test.ts: SKIPPED says so.
import { readFileSync } from 'node:fs'
import { startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeBundle, runCli } from '../packages/cli/test/subprocess.js'
import {
  pointAtMockServers,
  readmeBlocks,
  readmeFiles,
  type ShellStep,
  shellSteps,
} from './support/readme-blocks.js'

const SECRET = 'readme-cli-secret'
const SKIPPED: Record<string, string> = {
  login: 'signs a person in (browser or device code): packages/cli/test/login.test.ts',
  demo: 'runs the demo: packages/cli/test/demo.test.ts checks it and its report',
}

const steps = readmeFiles()
  .flatMap(readmeBlocks)
  .filter((b) => (b.lang === 'sh' || b.lang === 'console') && b.notRunnable === undefined)
  .flatMap((block) =>
    shellSteps(block)
      .filter((step) => step.argv[0] === 'tokenwell')
      .map((step) => ({ where: block.where, lang: block.lang, step })),
  )

let auth: Awaited<ReturnType<typeof startMockAuthServer>>
beforeAll(async () => {
  auth = await startMockAuthServer({ clients: [{ clientId: 'svc-a', clientSecret: SECRET }] })
})
afterAll(async () => {
  removeBundle()
  await auth?.close()
})

function pointed(step: ShellStep): string[] {
  const targets = { tokenEndpoint: auth.tokenEndpoint, issuer: auth.issuer, apiUrl: 'http://127.0.0.1:9' }
  return step.argv
    .slice(1)
    .map((word) =>
      pointAtMockServers(word, targets).replace('http://127.0.0.1:8080/token', auth.tokenEndpoint),
    )
}

/** A shown line as a pattern: `…` is anything. */
function shown(line: string): RegExp {
  return new RegExp(
    `^${line
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
}

describe('README CLI examples', () => {
  it('finds the tokenwell token examples, the failing ones among them', () => {
    const tokenSteps = steps.filter((s) => s.step.argv[1] === 'token')
    expect(tokenSteps.length).toBeGreaterThanOrEqual(3)
    expect(
      tokenSteps.some((s) => s.step.exitCode === 1) && tokenSteps.some((s) => s.step.exitCode === 2),
    ).toBe(true)
  })

  it.each(steps.map((s) => [`${s.where} tokenwell ${s.step.argv[1]}`, s]))(
    '%s',
    async (_title, { lang, step }) => {
      const subcommand = step.argv[1]!
      if (subcommand in SKIPPED) return void expect(SKIPPED[subcommand]).toBeDefined()
      expect(subcommand).toBe('token')
      const result = await runCli(pointed(step), { env: { CLIENT_SECRET: SECRET, ...step.env } })
      if (lang === 'console') {
        const printed = `${result.stdout}${result.stderr}`.trimEnd().split('\n')
        expect(printed.length).toBe(step.output.length)
        for (const [i, line] of step.output.entries()) expect(printed[i]).toMatch(shown(line))
        expect(result.code).toBe(step.exitCode ?? 0)
      } else {
        expect(result.code, result.stderr).toBe(0)
        const token = result.stdout.trim().replace(/^Authorization: Bearer /, '')
        expect(await auth.verifyAccessToken(token)).toMatchObject({ client_id: 'svc-a' })
      }
    },
  )

  it('documents the --timeout default that --help shows', async () => {
    const help = await runCli(['token', '--help'])
    expect(help.stdout).toMatch(/--timeout DURATION .*\(default: 10s\)/)
    const table = readFileSync(new URL('../packages/cli/README.md', import.meta.url), 'utf8')
    expect(table).toMatch(/^\| `--timeout 10s` \|.*Default 10s \|$/m)
  })
})
