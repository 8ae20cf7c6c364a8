import { parseArgs } from 'node:util'
import { type ClientAuthRow, clientAuthWithoutCert } from './client-auth-methods.js'
import { parseDuration } from './duration.js'
import { hasSecret, SECRETS, type SecretName } from './secrets.js'
import { OUTPUTS, type Output } from './token-args.js'
import { UsageError } from './usage-error.js'

/** How long a browser login may take by default, ms (the loopback listener's own default). */
export const DEFAULT_LOGIN_TIMEOUT = 300_000

/** The secrets `tokenwell login` can take: the client's own (the user signs in in the browser). */
const LOGIN_SECRETS: readonly SecretName[] = ['clientSecret', 'privateKey']

const OPTIONS = {
  issuer: { type: 'string' },
  'authorization-endpoint': { type: 'string' },
  'device-authorization-endpoint': { type: 'string' },
  'token-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth': { type: 'string' },
  'key-id': { type: 'string' },
  'assertion-alg': { type: 'string' },
  device: { type: 'boolean' },
  scope: { type: 'string', multiple: true },
  port: { type: 'string' },
  open: { type: 'boolean' },
  timeout: { type: 'string' },
  'refresh-token-out': { type: 'string' },
  ca: { type: 'string', multiple: true },
  insecure: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // the client's secret, from the same sources as in `tokenwell token` (see SECRETS)
  'client-secret': { type: 'string' },
  'client-secret-env': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'private-key': { type: 'string' },
  'private-key-env': { type: 'string' },
  'private-key-file': { type: 'string' },
  'private-key-stdin': { type: 'boolean' },
} as const

/** A `tokenwell login` command line, checked; nothing read yet. */
export interface LoginArgs {
  /** `--device`: the device authorization grant instead of a browser on this machine. */
  readonly device: boolean
  /** Either `issuer`, or the endpoints of the chosen flow (and the token endpoint). */
  readonly issuer: string | undefined
  readonly authorizationEndpoint: string | undefined
  readonly deviceAuthorizationEndpoint: string | undefined
  readonly tokenEndpoint: string | undefined
  readonly clientId: string
  readonly clientAuth: ClientAuthRow
  readonly clientAssertion: { readonly keyId?: string; readonly algorithm?: string }
  /** The client's secret to read, if its authentication method needs one. */
  readonly secrets: readonly SecretName[]
  readonly scope: string | undefined
  /** The loopback port of the redirect URI (0: any free port). */
  readonly port: number
  readonly open: boolean
  /** ms; undefined: no limit but the device code's own expiry. */
  readonly timeout: number | undefined
  readonly refreshTokenOut: string | undefined
  readonly output: Output
  readonly caFiles: readonly string[]
  readonly insecure: boolean
  /** The parsed flags, for `readSecret()`. */
  readonly values: Readonly<Record<string, unknown>>
}

/**
 * Parses and checks a `tokenwell login` command line without reading anything. Throws
 * `UsageError`; messages name flags, never values.
 */
export function parseLoginArgs(argv: readonly string[]): LoginArgs {
  const { values, positionals } = parse(argv)
  const all: Readonly<Record<string, unknown>> = values
  if (positionals.length > 0) usage(`login takes no positional arguments (got ${positionals.length})`)
  const device = values.device === true
  const issuer = values.issuer || undefined
  const flowEndpoint = device ? 'device-authorization-endpoint' : 'authorization-endpoint'
  const otherEndpoint = device ? 'authorization-endpoint' : 'device-authorization-endpoint'
  if (values[otherEndpoint] !== undefined) {
    usage(`--${otherEndpoint} ${device ? 'does not apply to --device' : 'needs --device'}`)
  }
  const endpoint = values[flowEndpoint] || undefined
  const tokenEndpoint = values['token-endpoint'] || undefined
  if (
    issuer !== undefined ? endpoint !== undefined || tokenEndpoint !== undefined : !endpoint || !tokenEndpoint
  ) {
    usage(`give --issuer URL, or --${flowEndpoint} URL and --token-endpoint URL (not both)`)
  }
  const clientId = values['client-id'] || usage('--client-id is required')
  const output = (values.output ?? 'token') as Output
  if (!OUTPUTS.includes(output)) usage(`--output must be one of ${OUTPUTS.join(', ')}`)
  if (device && values.port !== undefined) usage('--port does not apply to --device (no redirect)')
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!/^\d{1,5}$/.test(values.port ?? '0') || port > 65_535) usage('--port must be a port number (0–65535)')

  // a CLI is a public client (RFC 8252 §8.4), unless told otherwise
  const clientAuthName = values['client-auth'] ?? 'none'
  const clientAuth = clientAuthWithoutCert(clientAuthName, 'login')
  for (const name of LOGIN_SECRETS) {
    if (clientAuth.secret !== name && hasSecret(name, all)) {
      usage(`--client-auth ${clientAuthName} takes no ${SECRETS[name].label}`)
    }
  }
  const jwt = clientAuth.method === 'private_key_jwt' || clientAuth.method === 'client_secret_jwt'
  for (const flag of ['key-id', 'assertion-alg'] as const) {
    if (values[flag] !== undefined && !jwt) usage(`--${flag} applies to JWT client authentication only`)
  }
  const secrets = clientAuth.secret ? [clientAuth.secret] : []
  for (const name of secrets) {
    if (!hasSecret(name, all)) {
      const { flag, label } = SECRETS[name]
      usage(`a ${label} is required: give --${flag}-env VAR, --${flag}-file FILE or --${flag}-stdin`)
    }
  }
  const refreshTokenOut = values['refresh-token-out']
  if (refreshTokenOut === '') usage('--refresh-token-out needs a file name')

  return {
    device,
    issuer,
    authorizationEndpoint: device ? undefined : endpoint,
    deviceAuthorizationEndpoint: device ? endpoint : undefined,
    tokenEndpoint,
    clientId,
    clientAuth,
    clientAssertion: {
      ...(values['key-id'] !== undefined && { keyId: values['key-id'] }),
      ...(values['assertion-alg'] !== undefined && { algorithm: values['assertion-alg'] }),
    },
    secrets,
    scope: values.scope?.join(' '),
    port,
    open: values.open === true,
    timeout:
      values.timeout !== undefined
        ? parseDuration(values.timeout, '--timeout')
        : device
          ? undefined
          : DEFAULT_LOGIN_TIMEOUT,
    refreshTokenOut,
    output,
    caFiles: values.ca ?? [],
    insecure: values.insecure === true,
    values: all,
  }
}

function usage(message: string): never {
  throw new UsageError(message, 'login')
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true })
  } catch (error) {
    // node's messages name the option, never its value
    return usage((error as Error).message)
  }
}
