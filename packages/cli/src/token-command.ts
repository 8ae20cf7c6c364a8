import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  authorizationHeader,
  ConfigError,
  createTokenProvider,
  type FetchLike,
  type Token,
  TokenRequestError,
} from '@tokenwell/core'
import type { CliIo } from './cli-io.js'
import { findClientAuth } from './client-auth-methods.js'
import { formatDuration, parseDuration } from './duration.js'
import { findGrant, GRANT_PLAIN_OPTIONS, GRANTS, type GrantInputs } from './grant-options.js'
import { hasSecret, readSecret, SECRETS, type SecretName, secretFlags, secretOptions } from './secrets.js'
import { UsageError } from './usage-error.js'

const OUTPUTS = ['token', 'json', 'header'] as const
type Output = (typeof OUTPUTS)[number]
/** Time limit of the whole command, retries included, ms. */
const DEFAULT_TIMEOUT = 10_000

const OPTIONS = {
  'token-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth': { type: 'string' },
  grant: { type: 'string' },
  username: { type: 'string' },
  'redirect-uri': { type: 'string' },
  'subject-token-type': { type: 'string' },
  'actor-token-type': { type: 'string' },
  'requested-token-type': { type: 'string' },
  scope: { type: 'string', multiple: true },
  audience: { type: 'string' },
  resource: { type: 'string', multiple: true },
  param: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  ca: { type: 'string', multiple: true },
  insecure: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...secretOptions(),
} as const

/** Core option names as the user typed them, for `ConfigError` messages. */
const FLAG_OF: Readonly<Record<string, string>> = {
  tokenEndpoint: '--token-endpoint',
  clientId: '--client-id',
  scope: '--scope',
  audience: '--audience',
  resource: '--resource',
  extraParams: '--param',
  'grant.username': '--username',
  'grant.redirectUri': '--redirect-uri',
}

/**
 * `tokenwell token`: validates the command line, reads secrets from their sources, gets one
 * token with core and prints it as `--output` says. Resolves to the exit code; throws
 * `UsageError` (exit 2) or a core error (exit 1, or 2 for `ConfigError`).
 */
export async function runTokenCommand(
  argv: readonly string[],
  io: CliIo,
  secrets: string[],
): Promise<number> {
  const { values, positionals } = parse(argv)
  if (positionals.length > 0) {
    throw new UsageError(`token takes no positional arguments (got ${positionals.length})`, 'token')
  }
  const tokenEndpoint = requiredValue(values['token-endpoint'], '--token-endpoint')
  const clientId = requiredValue(values['client-id'], '--client-id')
  const output = (values.output ?? 'token') as Output
  if (!OUTPUTS.includes(output))
    throw new UsageError(`--output must be one of ${OUTPUTS.join(', ')}`, 'token')

  const grantName = values.grant ?? 'client_credentials'
  const grant = findGrant(grantName)
  if (!grant) throw new UsageError(`--grant must be one of ${Object.keys(GRANTS).join(', ')}`, 'token')
  checkGrantOptions(grantName, grant.plain, grant.secrets, values)

  const clientAuth = findClientAuth(values['client-auth'] ?? 'basic')
  if (!clientAuth) throw new UsageError('--client-auth must be one of basic, post, none', 'token')
  if (!clientAuth.secret && hasSecret('clientSecret', values)) {
    throw new UsageError(`--client-auth ${values['client-auth']} takes no client secret`, 'token')
  }
  const needed: SecretName[] = [...(clientAuth.secret ? [clientAuth.secret] : []), ...grant.secrets]
  for (const name of needed) {
    if (!grant.optional.includes(name) && !hasSecret(name, values)) {
      const { flag } = SECRETS[name]
      throw new UsageError(
        `a ${SECRETS[name].label} is required: give --${flag}-env VAR, --${flag}-file FILE or --${flag}-stdin`,
        'token',
      )
    }
  }
  for (const name of grant.plain) {
    if (!grant.optional.includes(name) && values[name as keyof typeof values] === undefined) {
      throw new UsageError(`--grant ${grantName} needs --${name}`, 'token')
    }
  }
  const all: Readonly<Record<string, unknown>> = values
  const fromStdin = Object.values(SECRETS).filter(({ flag }) => all[`${flag}-stdin`] === true)
  if (fromStdin.length > 1) throw new UsageError('only one secret can come from stdin', 'token')
  const extraParams = parseParams(values.param ?? [])
  const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT : parseDuration(values.timeout, '--timeout')
  const ca = await readCaFiles(values.ca ?? [])

  // the command line is sound: now read the secrets (stdin last, so a usage error never eats it)
  const inputs: Record<string, string | undefined> = {}
  for (const name of needed) {
    const secret = await readSecret(name, values, io, 'token')
    if (secret !== undefined) secrets.push(secret)
    inputs[name] = secret
  }
  for (const name of grant.plain) inputs[name] = values[name as keyof typeof values] as string | undefined

  if (values.insecure) {
    io.stderr.write(
      'tokenwell: warning: --insecure turns off TLS certificate verification; ' +
        'anyone on the network path can read the client secret and the token\n',
    )
  }
  // undici loads only when TLS options need it
  const tls =
    ca.length > 0 || values.insecure
      ? (await import('./tls-fetch.js')).createTlsFetch({ ca, insecure: values.insecure })
      : undefined
  const deadline = AbortSignal.timeout(timeout)
  const base: FetchLike = tls?.fetch ?? ((request) => globalThis.fetch(request))
  // past the deadline, a retry core still has scheduled fails at once instead of keeping us alive
  const fetch: FetchLike = (request) =>
    base(new Request(request, { signal: AbortSignal.any([request.signal, deadline]) }))
  try {
    const provider = createProviderOrUsage(() =>
      createTokenProvider({
        tokenEndpoint,
        clientId,
        clientAuth: clientAuth.method,
        clientSecret: clientAuth.secret ? inputs[clientAuth.secret] : undefined,
        grant: grant.build(inputs as GrantInputs),
        scope: values.scope?.join(' '),
        audience: values.audience,
        resource: values.resource,
        extraParams,
        timeout,
        refreshAhead: false,
        fetch,
      }),
    )
    let token: Token
    try {
      token = await provider.getToken({ signal: deadline })
    } catch (error) {
      if (deadline.aborted && !(error instanceof TokenRequestError)) {
        throw new TokenRequestError(`no token within ${formatDuration(timeout)} (--timeout)`, {
          cause: error,
        })
      }
      throw error
    } finally {
      await provider.close()
    }
    secrets.push(token.accessToken, ...[token.refreshToken, token.idToken].filter((s) => s !== undefined))
    if (
      grant.type === 'refresh_token' &&
      token.refreshToken !== undefined &&
      token.refreshToken !== inputs['refreshToken']
    ) {
      io.stderr.write(
        'tokenwell: warning: the server issued a new refresh token (not printed); ' +
          'the one you gave may now be spent\n',
      )
    }
    io.stdout.write(`${formatToken(token, output, Date.now())}\n`)
    return 0
  } finally {
    await tls?.close()
  }
}

/** The token as `--output` asks: the bare token, JSON of its non-secret fields plus the token, or a header. */
export function formatToken(token: Token, output: Output, now: number): string {
  if (output === 'header') return `Authorization: ${authorizationHeader(token)}`
  if (output === 'token') return token.accessToken
  return JSON.stringify(
    {
      // the one secret printed, on purpose: it is what the user asked for
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      ...(token.expiresAt !== undefined && {
        expiresAt: token.expiresAt,
        expiresIn: Math.max(0, Math.floor((token.expiresAt - now) / 1000)),
      }),
      ...(token.scope !== undefined && { scope: token.scope }),
    },
    null,
    2,
  )
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true })
  } catch (error) {
    // node's messages name the option, never its value
    throw new UsageError((error as Error).message, 'token')
  }
}

function requiredValue(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`, 'token')
  return value
}

/** A flag that belongs to another grant is a mistake worth stopping for. */
function checkGrantOptions(
  grantName: string,
  plain: readonly string[],
  grantSecrets: readonly SecretName[],
  values: Readonly<Record<string, unknown>>,
): void {
  for (const name of GRANT_PLAIN_OPTIONS) {
    if (values[name] !== undefined && !plain.includes(name)) {
      throw new UsageError(`--${name} does not apply to --grant ${grantName}`, 'token')
    }
  }
  const grantSecretNames = new Set(Object.values(GRANTS).flatMap((g) => g.secrets))
  for (const name of grantSecretNames) {
    if (!grantSecrets.includes(name) && hasSecret(name, values)) {
      const flag = secretFlags(name).find((f) => values[f] !== undefined)
      throw new UsageError(`--${flag} does not apply to --grant ${grantName}`, 'token')
    }
  }
}

function parseParams(params: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {}
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 1) throw new UsageError('--param must be NAME=VALUE', 'token')
    result[param.slice(0, eq)] = param.slice(eq + 1)
  }
  return result
}

async function readCaFiles(paths: readonly string[]): Promise<string[]> {
  const pems: string[] = []
  for (const path of paths) {
    let pem: string
    try {
      pem = await readFile(path, 'utf8')
    } catch (error) {
      throw new UsageError(
        `cannot read --ca ${path} (${(error as { code?: string }).code ?? 'unreadable'})`,
        'token',
      )
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(`--ca ${path} holds no PEM certificate`, 'token')
    }
    pems.push(pem)
  }
  return pems
}

/** A `ConfigError` from core is a bad command line: say it with the flag's name, exit 2. */
function createProviderOrUsage<T>(create: () => T): T {
  try {
    return create()
  } catch (error) {
    if (error instanceof ConfigError) {
      const message = error.message.replace(/^[\w.]+/, (name) => FLAG_OF[name] ?? name)
      throw new UsageError(message, 'token')
    }
    throw error
  }
}
