import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  type ClientAssertionOptions,
  ConfigError,
  createTokenProvider,
  TokenRequestError,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { revocation } from '@tokenwell/core/revocation'
import { createCliFetch, readCaFiles } from './cli-fetch.js'
import type { CliIo } from './cli-io.js'
import { clientAuthWithoutCert } from './client-auth-methods.js'
import { formatDuration, parseDuration } from './duration.js'
import { readSecret, SECRETS, secretFlags } from './secrets.js'
import { asUsageError } from './token-command.js'
import { UsageError } from './usage-error.js'

const CLIENT_SECRETS = ['clientSecret', 'privateKey'] as const
const HINTS = ['access_token', 'refresh_token'] as const
const TOKEN_SOURCES = ['token-env', 'token-file', 'token-stdin'] as const

const OPTIONS = {
  issuer: { type: 'string' },
  'revocation-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth': { type: 'string' },
  'key-id': { type: 'string' },
  'assertion-alg': { type: 'string' },
  'token-env': { type: 'string' },
  'token-file': { type: 'string' },
  'token-stdin': { type: 'boolean' },
  'token-type-hint': { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string', multiple: true },
  insecure: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(
    CLIENT_SECRETS.flatMap((name) =>
      secretFlags(name).map((flag) => [flag, { type: flag.endsWith('-stdin') ? 'boolean' : 'string' }]),
    ),
  ),
} as const

function usage(message: string): never {
  throw new UsageError(message, 'revoke')
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS as never, strict: true, allowPositionals: false })
      .values as Record<string, unknown>
  } catch (error) {
    // node's messages name the option, never its value
    return usage((error as Error).message)
  }
}

/** The token to revoke, from its one source; the messages never contain it. */
async function readToken(values: Record<string, unknown>, io: CliIo): Promise<string> {
  const given = TOKEN_SOURCES.filter((flag) => values[flag] !== undefined && values[flag] !== false)
  if (given.length !== 1) usage('give the token once: --token-env VAR, --token-file FILE or --token-stdin')
  const source = given[0]!
  let token = ''
  if (source === 'token-env') token = io.env[String(values[source])] ?? ''
  else if (source === 'token-file') {
    token = await readFile(String(values[source]), 'utf8').catch((error: { code?: string }) =>
      usage(`cannot read the token file given by --token-file (${error.code ?? 'unreadable'})`),
    )
  } else {
    const chunks: string[] = []
    const decoder = new TextDecoder()
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk))
    token = chunks.join('')
  }
  token = token.replace(/\r?\n$/, '')
  if (token === '') usage(`no token in what --${source} names`)
  return token
}

/**
 * `tokenwell revoke`: checks the command line, reads the client's secret and the token, and
 * revokes the token with `provider.revoke({ token, tokenTypeHint })`. The token and secrets go
 * to `secrets`, which `main()` masks on stderr. Resolves to the exit code.
 * @see RFC 7009 §2
 */
export async function runRevokeCommand(
  argv: readonly string[],
  io: CliIo,
  secrets: string[],
): Promise<number> {
  const values = parse(argv)
  const issuer = (values.issuer as string | undefined) || undefined
  const revocationEndpoint = (values['revocation-endpoint'] as string | undefined) || undefined
  if (issuer === undefined && revocationEndpoint === undefined)
    usage('give --issuer URL (to discover the revocation endpoint) or --revocation-endpoint URL')
  const clientId = (values['client-id'] as string | undefined) || usage('--client-id is required')
  const authName = (values['client-auth'] as string | undefined) ?? 'basic'
  const clientAuth = clientAuthWithoutCert(authName, 'revoke')
  const hint = (values['token-type-hint'] as string | undefined) ?? 'access_token'
  if (!(HINTS as readonly string[]).includes(hint))
    usage(`--token-type-hint must be one of ${HINTS.join(', ')}`)
  const timeout = values.timeout === undefined ? 10_000 : parseDuration(String(values.timeout), '--timeout')
  for (const name of CLIENT_SECRETS) {
    const given = secretFlags(name).some((flag) => values[flag] !== undefined && values[flag] !== false)
    if (given && clientAuth.secret !== name)
      usage(`--client-auth ${authName} takes no ${SECRETS[name].label}`)
  }
  if (clientAuth.secret === 'clientSecret' && values['token-stdin'] === true && values['client-secret-stdin'])
    usage('only one secret can come from stdin')
  const ca = await readCaFiles((values.ca as string[] | undefined) ?? [], 'revoke')
  const secret = clientAuth.secret && (await readSecret(clientAuth.secret, values, io, 'revoke'))
  if (clientAuth.secret && secret === undefined)
    usage(`a ${SECRETS[clientAuth.secret].label} is required for --client-auth ${authName}`)
  if (secret) secrets.push(secret)
  const token = await readToken(values, io)
  secrets.push(token)
  const net = await createCliFetch({ ca, insecure: values.insecure === true, timeout }, io)
  try {
    const provider = (() => {
      try {
        return createTokenProvider({
          // with a revocation endpoint and no issuer, no token is ever requested: it stands in
          ...(issuer !== undefined ? { issuer, discovery } : { tokenEndpoint: revocationEndpoint }),
          ...(revocationEndpoint !== undefined && { revocationEndpoint }),
          revocation,
          clientId,
          ...clientAuth.credentials(
            secret || undefined,
            Object.fromEntries(
              [
                ['keyId', values['key-id']],
                ['algorithm', values['assertion-alg']],
              ].filter(([, value]) => value !== undefined),
            ) as ClientAssertionOptions,
          ),
          timeout,
          retry: false,
          refreshAhead: false,
          fetch: net.fetch,
        })
      } catch (error) {
        throw error instanceof ConfigError ? asUsageError(error, 'revoke') : error
      }
    })()
    const tokenTypeHint = hint as (typeof HINTS)[number]
    const result = await provider.revoke({ token, tokenTypeHint }).catch((error: unknown) => {
      if (net.deadline?.aborted && !(error instanceof TokenRequestError))
        throw new TokenRequestError(`no answer within ${formatDuration(timeout)} (--timeout)`, {
          cause: error,
        })
      throw error
    })
    if (tokenTypeHint === 'access_token' && !result.accessToken) {
      io.stderr.write('tokenwell: the server does not revoke access tokens (unsupported_token_type)\n')
      return 1
    }
    io.stderr.write(
      `tokenwell: revoked the ${tokenTypeHint === 'refresh_token' ? 'refresh' : 'access'} token\n`,
    )
    return 0
  } finally {
    await net.close()
  }
}
