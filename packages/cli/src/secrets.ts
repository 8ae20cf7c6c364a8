import { readFile } from 'node:fs/promises'
import type { CliIo } from './cli-io.js'
import { UsageError } from './usage-error.js'

/** A secret the CLI can take on its command line; each gets `--X`, `--X-env`, `--X-file` and `--X-stdin`. */
export interface SecretSpec {
  /** Flag stem, e.g. `client-secret`. */
  readonly flag: string
  /** What it is called in messages. */
  readonly label: string
  /** Whether a plain `--X VALUE` earns a warning (single-use values such as a code do not). */
  readonly warnOnArgv: boolean
}

/** Every secret the CLI accepts, by the name the grant and client-auth tables use. */
export const SECRETS = {
  clientSecret: { flag: 'client-secret', label: 'client secret', warnOnArgv: true },
  privateKey: { flag: 'private-key', label: 'private key', warnOnArgv: true },
  /** The private key of `--cert` (mutual TLS, RFC 8705). */
  tlsKey: { flag: 'key', label: 'TLS client key', warnOnArgv: true },
  password: { flag: 'password', label: 'password', warnOnArgv: true },
  refreshToken: { flag: 'refresh-token', label: 'refresh token', warnOnArgv: true },
  assertion: { flag: 'assertion', label: 'assertion', warnOnArgv: true },
  subjectToken: { flag: 'subject-token', label: 'subject token', warnOnArgv: true },
  actorToken: { flag: 'actor-token', label: 'actor token', warnOnArgv: true },
  code: { flag: 'code', label: 'authorization code', warnOnArgv: false },
  codeVerifier: { flag: 'code-verifier', label: 'code verifier', warnOnArgv: false },
} as const satisfies Record<string, SecretSpec>

export type SecretName = keyof typeof SECRETS

type ParseArgsOption = { type: 'string' } | { type: 'boolean' }

/** The `parseArgs` options of every secret source. */
export function secretOptions(): Record<string, ParseArgsOption> {
  const options: Record<string, ParseArgsOption> = {}
  for (const { flag } of Object.values(SECRETS)) {
    options[flag] = { type: 'string' }
    options[`${flag}-env`] = { type: 'string' }
    options[`${flag}-file`] = { type: 'string' }
    options[`${flag}-stdin`] = { type: 'boolean' }
  }
  return options
}

/** Every flag that gives `name` (to tell whether it was given at all). */
export function secretFlags(name: SecretName): string[] {
  const { flag } = SECRETS[name]
  return [flag, `${flag}-env`, `${flag}-file`, `${flag}-stdin`]
}

/** Whether any source of `name` is on the command line. */
export function hasSecret(name: SecretName, values: Readonly<Record<string, unknown>>): boolean {
  return secretFlags(name).some((flag) => values[flag] !== undefined && values[flag] !== false)
}

/** Drops one trailing line break: `echo secret > file` and a piped `echo` add one. */
function chomp(value: string): string {
  return value.replace(/\r?\n$/, '')
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: string[] = []
  const decoder = new TextDecoder()
  for await (const chunk of io.stdin) {
    chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
  }
  chunks.push(decoder.decode())
  return chunks.join('')
}

/**
 * Reads secret `name` from the one source given (env, file, stdin or, with a warning, argv).
 * Returns undefined when none was given. Throws `UsageError` for two sources, an unset
 * variable, an unreadable file or an empty value; messages never contain the secret.
 */
export async function readSecret(
  name: SecretName,
  values: Readonly<Record<string, unknown>>,
  io: CliIo,
  command: string,
): Promise<string | undefined> {
  const { flag, label, warnOnArgv } = SECRETS[name]
  const given = secretFlags(name).filter((f) => values[f] !== undefined && values[f] !== false)
  if (given.length === 0) return undefined
  if (given.length > 1) {
    throw new UsageError(
      `give the ${label} once, not with ${given.map((f) => `--${f}`).join(' and ')}`,
      command,
    )
  }
  let secret: string
  const source = given[0]
  if (source === `${flag}-env`) {
    const variable = String(values[source])
    secret = io.env[variable] ?? ''
    if (secret === '')
      throw new UsageError(`environment variable ${variable} (--${source}) is not set or empty`, command)
  } else if (source === `${flag}-file`) {
    const path = String(values[source])
    try {
      secret = chomp(await readFile(path, 'utf8'))
    } catch (error) {
      const reason = (error as { code?: string }).code ?? 'unreadable'
      throw new UsageError(`cannot read the ${label} file given by --${source} (${reason})`, command)
    }
    if (secret === '') throw new UsageError(`the ${label} file given by --${source} is empty`, command)
  } else if (source === `${flag}-stdin`) {
    if (io.stdin.isTTY) io.stderr.write(`tokenwell: reading the ${label} from stdin (end with Ctrl-D)\n`)
    secret = chomp(await readStdin(io))
    if (secret === '') throw new UsageError(`no ${label} on stdin (--${source})`, command)
  } else {
    secret = String(values[flag])
    if (secret === '') throw new UsageError(`--${flag} is empty`, command)
    if (warnOnArgv) {
      io.stderr.write(
        `tokenwell: warning: a ${label} on the command line shows in shell history and the process list; ` +
          `prefer --${flag}-env, --${flag}-file or --${flag}-stdin\n`,
      )
    }
  }
  return secret
}
