import { parseArgs } from 'node:util'
import { CLIENT_AUTH_METHODS, type ClientAuthRow, findClientAuth } from './client-auth-methods.js'
import { parseDuration } from './duration.js'
import { findGrant, GRANT_PLAIN_OPTIONS, GRANTS, type GrantRow } from './grant-options.js'
import { hasSecret, SECRETS, type SecretName, secretFlags, secretOptions } from './secrets.js'
import { UsageError } from './usage-error.js'

/** `--output` values. */
export const OUTPUTS = ['token', 'json', 'header'] as const
export type Output = (typeof OUTPUTS)[number]
/** Time limit of the whole command, retries included, ms. */
const DEFAULT_TIMEOUT = 10_000

const OPTIONS = {
  'token-endpoint': { type: 'string' },
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth': { type: 'string' },
  'key-id': { type: 'string' },
  'assertion-alg': { type: 'string' },
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
  cert: { type: 'string' },
  insecure: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'refresh-token-out': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...secretOptions(),
} as const

/** A `tokenwell token` command line, checked: everything but the secrets' values and the CA files' contents. */
export interface TokenArgs {
  /** Exactly one of `tokenEndpoint` and `issuer` (discovery) is set. */
  readonly tokenEndpoint: string | undefined
  readonly issuer: string | undefined
  readonly clientId: string
  readonly output: Output
  readonly grant: GrantRow
  readonly clientAuth: ClientAuthRow
  /** `--key-id` and `--assertion-alg`, for JWT client authentication. */
  readonly clientAssertion: { readonly keyId?: string; readonly algorithm?: string }
  /** Secrets to read, in order (the client's, then the grant's). */
  readonly secrets: readonly SecretName[]
  /** The grant's plain options (`username`, `redirect-uri`, …). */
  readonly plain: Readonly<Record<string, string | undefined>>
  readonly scope: string | undefined
  readonly audience: string | undefined
  readonly resource: readonly string[] | undefined
  readonly extraParams: Readonly<Record<string, string>>
  /** ms */
  readonly timeout: number
  readonly caFiles: readonly string[]
  /** `--cert FILE`: the client certificate of mutual TLS; its key is the `tlsKey` secret. */
  readonly certFile: string | undefined
  readonly insecure: boolean
  /** `--refresh-token-out FILE`: where to keep the refresh token the server issues. */
  readonly refreshTokenOut: string | undefined
  /** The parsed flags, for `readSecret()`. */
  readonly values: Readonly<Record<string, unknown>>
}

/**
 * Parses and checks a `tokenwell token` command line without reading anything, so a bad
 * command line never consumes stdin. Throws `UsageError`; messages name flags, never values.
 */
export function parseTokenArgs(argv: readonly string[]): TokenArgs {
  const { values, positionals } = parse(argv)
  const all: Readonly<Record<string, unknown>> = values
  if (positionals.length > 0) usage(`token takes no positional arguments (got ${positionals.length})`)
  const tokenEndpoint = values['token-endpoint'] || undefined
  const issuer = values.issuer || undefined
  if ((tokenEndpoint === undefined) === (issuer === undefined)) {
    usage('give --token-endpoint URL, or --issuer URL to discover it (not both)')
  }
  const clientId = required(values['client-id'], '--client-id')
  const output = (values.output ?? 'token') as Output
  if (!OUTPUTS.includes(output)) usage(`--output must be one of ${OUTPUTS.join(', ')}`)

  const grantName = values.grant ?? 'client_credentials'
  const grant = findGrant(grantName) ?? usage(`--grant must be one of ${Object.keys(GRANTS).join(', ')}`)
  rejectOtherGrantsOptions(grantName, grant, all)
  for (const name of grant.plain) {
    if (!grant.optional.includes(name) && all[name] === undefined)
      usage(`--grant ${grantName} needs --${name}`)
  }

  const clientAuthName = values['client-auth'] ?? 'basic'
  const clientAuth =
    findClientAuth(clientAuthName) ??
    usage(`--client-auth must be one of ${Object.keys(CLIENT_AUTH_METHODS).join(', ')}`)
  for (const name of ['clientSecret', 'privateKey'] as const) {
    if (clientAuth.secret !== name && hasSecret(name, all)) {
      usage(`--client-auth ${clientAuthName} takes no ${SECRETS[name].label}`)
    }
  }
  const jwt = clientAuth.method === 'private_key_jwt' || clientAuth.method === 'client_secret_jwt'
  for (const flag of ['key-id', 'assertion-alg'] as const) {
    if (values[flag] !== undefined && !jwt) usage(`--${flag} applies to JWT client authentication only`)
  }
  const certFile = values.cert || undefined
  const mtls = clientAuth.method === 'tls_client_auth' || clientAuth.method === 'self_signed_tls_client_auth'
  if (mtls && certFile === undefined) usage(`--client-auth ${clientAuthName} needs --cert FILE`)
  if (certFile !== undefined && !hasSecret('tlsKey', all)) {
    usage('--cert needs its key: give --key-file FILE, --key-env VAR or --key-stdin')
  }
  if (certFile === undefined && hasSecret('tlsKey', all)) usage('a TLS client key applies to --cert only')
  const secrets: SecretName[] = [
    ...(clientAuth.secret ? [clientAuth.secret] : []),
    ...(certFile !== undefined ? (['tlsKey'] as const) : []),
    ...grant.secrets,
  ]
  for (const name of secrets) {
    if (!grant.optional.includes(name) && !hasSecret(name, all)) {
      const { flag, label } = SECRETS[name]
      usage(`a ${label} is required: give --${flag}-env VAR, --${flag}-file FILE or --${flag}-stdin`)
    }
  }
  const fromStdin = Object.values(SECRETS).filter(({ flag }) => all[`${flag}-stdin`] === true)
  if (fromStdin.length > 1) usage('only one secret can come from stdin')
  if (values['refresh-token-out'] === '') usage('--refresh-token-out needs a file name')

  return {
    tokenEndpoint,
    issuer,
    clientId,
    output,
    grant,
    clientAuth,
    clientAssertion: {
      ...(values['key-id'] !== undefined && { keyId: values['key-id'] }),
      ...(values['assertion-alg'] !== undefined && { algorithm: values['assertion-alg'] }),
    },
    secrets,
    plain: Object.fromEntries(grant.plain.map((name) => [name, all[name] as string | undefined])),
    scope: values.scope?.join(' '),
    audience: values.audience,
    resource: values.resource,
    extraParams: parseParams(values.param ?? []),
    timeout: values.timeout === undefined ? DEFAULT_TIMEOUT : parseDuration(values.timeout, '--timeout'),
    caFiles: values.ca ?? [],
    certFile,
    insecure: values.insecure === true,
    refreshTokenOut: values['refresh-token-out'],
    values: all,
  }
}

function usage(message: string): never {
  throw new UsageError(message, 'token')
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true })
  } catch (error) {
    // node's messages name the option, never its value
    return usage((error as Error).message)
  }
}

function required(value: string | undefined, flag: string): string {
  return value === undefined || value === '' ? usage(`${flag} is required`) : value
}

/** A flag that belongs to another grant is a mistake worth stopping for. */
function rejectOtherGrantsOptions(
  grantName: string,
  grant: GrantRow,
  values: Readonly<Record<string, unknown>>,
) {
  for (const name of GRANT_PLAIN_OPTIONS) {
    if (values[name] !== undefined && !grant.plain.includes(name)) {
      usage(`--${name} does not apply to --grant ${grantName}`)
    }
  }
  for (const name of new Set(Object.values(GRANTS).flatMap((g) => g.secrets))) {
    if (!grant.secrets.includes(name) && hasSecret(name, values)) {
      usage(
        `--${secretFlags(name).find((f) => values[f] !== undefined)} does not apply to --grant ${grantName}`,
      )
    }
  }
}

function parseParams(params: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {}
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 1) usage('--param must be NAME=VALUE')
    result[param.slice(0, eq)] = param.slice(eq + 1)
  }
  return result
}
