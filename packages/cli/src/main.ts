import { readFileSync } from 'node:fs'
import {
  AuthorizationError,
  isTokenwellError,
  loadSecretScrubber,
  OAuthError,
  type SecretScrubber,
  TokenRequestError,
} from '@tokenwell/core'
import type { CliIo, TextSink } from './cli-io.js'
import { runTokenCommand } from './token-command.js'
import { usageOf } from './usage.js'
import { UsageError } from './usage-error.js'

const COMMANDS = ['token', 'login', 'demo', 'revoke'] as const

/**
 * The `tokenwell` command. Writes the result to `io.stdout` and diagnostics to `io.stderr`,
 * and resolves to the exit code: 0 ok, 1 failure, 2 bad usage. Never rejects. Every secret it
 * reads (and the token it gets) is masked in anything written to stderr.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo())
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets: string[] = []
  const stderr = redactingSink(io.stderr, secrets, await loadSecretScrubber())
  const safeIo: CliIo = { ...io, stderr }
  const options = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length)
  const debug = options.includes('--debug')
  const [command, ...rest] = argv
  try {
    if (command === undefined) throw new UsageError('no command given')
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${version()}\n`)
      return 0
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      const topic = command === 'help' ? rest[0] : undefined
      if (topic !== undefined && !isCommand(topic))
        throw new UsageError(`unknown command "${printable(topic)}"`)
      io.stdout.write(`${usageOf(topic)}\n`)
      return 0
    }
    if (!isCommand(command)) throw new UsageError(`unknown command "${printable(command)}"`)
    if (options.includes('--help') || options.includes('-h')) {
      io.stdout.write(`${usageOf(command)}\n`)
      return 0
    }
    if (command === 'token') return await runTokenCommand(rest, safeIo, secrets)
    if (command === 'login') {
      // the loopback listener (and undici behind @tokenwell/node) load only for a login
      const { runLoginCommand } = await import('./login-command.js')
      return await runLoginCommand(rest, safeIo, secrets)
    }
    if (command === 'revoke') {
      const { runRevokeCommand } = await import('./revoke-command.js')
      return await runRevokeCommand(rest, safeIo, secrets)
    }
    // the demo's servers and HTTP clients load only for the demo: `tokenwell token` starts fast
    const { runDemoCommand } = await import('./demo-command.js')
    return await runDemoCommand(rest, safeIo)
  } catch (error) {
    return report(error, stderr, debug, command !== undefined && isCommand(command) ? command : undefined)
  }
}

function isCommand(value: string): value is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(value)
}

/** Prints `tokenwell: <message> [<code>]` (and the stack under `--debug`); returns the exit code. */
function report(error: unknown, stderr: TextSink, debug: boolean, command: string | undefined): number {
  if (error instanceof UsageError) {
    const topic = error.command ?? command
    const usage = usageOf(topic).split('\n')[0]
    const help = topic ? `tokenwell ${topic} --help` : 'tokenwell --help'
    stderr.write(`tokenwell: ${error.message} [${error.code}]\n${usage}\nRun '${help}' for all options.\n`)
    if (debug) stderr.write(`${error.stack}\n`)
    return 2
  }
  stderr.write(`tokenwell: ${describe(error)}\n`)
  if (debug) stderr.write(`${stackOf(error)}\n`)
  return 1
}

/** One line for an error: core's message, the server's OAuth error details, the network cause. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return `unexpected failure: ${printable(String(error))}`
  let message = error.message
  if (error instanceof OAuthError) {
    if (error.errorDescription) message += `: ${printable(error.errorDescription)}`
    if (error.errorUri) message += ` (see ${printable(error.errorUri)})`
  } else if (error instanceof AuthorizationError) {
    if (error.errorDescription) message += `: ${printable(error.errorDescription)}`
  } else if (error instanceof TokenRequestError || !isTokenwellError(error)) {
    // only for network failures: a parse error's cause could quote the response body
    const cause = rootCause(error)
    if (cause) message += ` (${cause})`
  }
  const code = isTokenwellError(error) ? error.code : (error as { code?: unknown }).code
  return typeof code === 'string' ? `${message} [${code}]` : message
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/
/** The system-level reason deepest in the `cause` chain (`ECONNREFUSED`, a TLS failure). */
function rootCause(error: Error): string | undefined {
  let found: string | undefined
  let deepest: string | undefined
  for (let cause: unknown = error.cause, depth = 0; cause instanceof Error && depth < 8; depth++) {
    const code = (cause as { code?: unknown }).code
    // undici wraps the reason in a TypeError('fetch failed'): the reason is more useful
    if (cause.message !== 'fetch failed' && !/^(Abort|Timeout)Error$/.test(cause.name))
      deepest = printable(cause.message)
    if (typeof code === 'string' && !code.startsWith('ERR_TOKEN')) {
      found = TLS_CODES.test(code)
        ? `${code}: the server's certificate is not trusted; --ca FILE trusts its CA`
        : cause.message.includes(code)
          ? printable(cause.message)
          : `${code}: ${printable(cause.message)}`
    }
    cause = cause.cause
  }
  return found ?? deepest
}

function stackOf(error: unknown): string {
  const lines: string[] = []
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; depth++) {
    lines.push(
      depth === 0 ? String((e as Error)?.stack ?? e) : `Caused by: ${String((e as Error)?.stack ?? e)}`,
    )
    e = e instanceof Error ? e.cause : undefined
  }
  return lines.join('\n')
}

/** Keeps a server-chosen or user-typed string to one short printable line. */
function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 300)
}

/**
 * Masks every known secret in what is written, in every form a server may echo it and every
 * 12-character piece of one (core scrubs what servers echo already; this is the second line).
 */
function redactingSink(sink: TextSink, secrets: readonly string[], scrub: SecretScrubber): TextSink {
  return {
    isTTY: sink.isTTY,
    write: (text: string) => sink.write(scrub(text, secrets)),
  }
}

function version(): string {
  // the nearest package.json of ours, from src/, dist/ or a bundle
  for (let url = new URL('./', import.meta.url); url.pathname !== '/'; url = new URL('../', url)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === '@tokenwell/cli' && pkg.version) return pkg.version
    } catch {}
  }
  return 'unknown'
}
