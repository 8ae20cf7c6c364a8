import type { ClientAssertionOptions, ClientAuthMethod, TokenProviderOptions } from '@tokenwell/core'
import { clientSecretJwt, privateKeyJwt } from '@tokenwell/core/jwt'
import type { SecretName } from './secrets.js'
import { UsageError } from './usage-error.js'

/** The core options a client-auth method and its secret become. */
type Credentials = Pick<TokenProviderOptions, 'clientAuth' | 'clientSecret'>

/** How one `--client-auth` value maps onto core. */
export interface ClientAuthRow {
  /** Core's name for it. */
  readonly method: ClientAuthMethod
  /** The secret it needs, read from `--<flag>-env`, `-file`, `-stdin` (see `SECRETS`). */
  readonly secret?: SecretName
  /** One line for `--help`. */
  readonly summary: string
  /** Mutual TLS: needs `--cert`, which only `tokenwell token` takes. */
  readonly mtls?: true
  /**
   * Core's options for the secret read; `assertion` is how a JWT method signs (`--key-id`,
   * `--assertion-alg`). Throws core's `ConfigError` for a key or signing option it cannot use.
   */
  credentials(secret: string | undefined, assertion?: ClientAssertionOptions): Credentials
}

const secretWith =
  (clientAuth: 'client_secret_basic' | 'client_secret_post') =>
  (secret: string | undefined): Credentials => ({ clientAuth, clientSecret: secret })

/**
 * `--client-auth` values. A new core method is one row here (plus, for a new kind of secret,
 * one entry in `SECRETS`). Core's own names are accepted too.
 * @see RFC 6749 §2.3.1, RFC 7523 §2.2, RFC 8705 §2, OpenID Connect Core 1.0 §9
 */
export const CLIENT_AUTH_METHODS: Readonly<Record<string, ClientAuthRow>> = {
  basic: {
    method: 'client_secret_basic',
    secret: 'clientSecret',
    summary: 'HTTP Basic with the client secret (default)',
    credentials: secretWith('client_secret_basic'),
  },
  post: {
    method: 'client_secret_post',
    secret: 'clientSecret',
    summary: 'client id and secret in the form body',
    credentials: secretWith('client_secret_post'),
  },
  'private-key-jwt': {
    method: 'private_key_jwt',
    secret: 'privateKey',
    summary: 'a JWT signed with --private-key-file (PKCS#8 PEM or private JWK)',
    // a JWK is JSON; anything else is handed to core as PEM (core names what is wrong with it)
    credentials: (key, assertion) => ({
      clientAuth: privateKeyJwt({
        ...assertion,
        privateKey: (key?.trimStart().startsWith('{') ? parseJwk(key) : key) as string,
      }),
    }),
  },
  'client-secret-jwt': {
    method: 'client_secret_jwt',
    secret: 'clientSecret',
    summary: 'a JWT signed with the client secret (HS256)',
    credentials: (secret, assertion) => ({ clientAuth: clientSecretJwt(assertion), clientSecret: secret }),
  },
  tls: {
    method: 'tls_client_auth',
    mtls: true,
    summary: 'mutual TLS with --cert and --key-file, issued by a CA (RFC 8705)',
    credentials: () => ({ clientAuth: 'tls_client_auth' }),
  },
  'self-signed-tls': {
    method: 'self_signed_tls_client_auth',
    mtls: true,
    summary: 'mutual TLS with a self-signed --cert registered with the server',
    credentials: () => ({ clientAuth: 'self_signed_tls_client_auth' }),
  },
  none: {
    method: 'none',
    summary: 'public client: client_id only',
    credentials: () => ({ clientAuth: 'none' }),
  },
}

/** `--help` lines of the methods a command takes (`login` and `revoke` take no `--cert`). */
export function clientAuthHelp(options: { mtls: boolean }): string {
  return Object.entries(CLIENT_AUTH_METHODS)
    .filter(([, row]) => options.mtls || !row.mtls)
    .map(([name, row]) => `      ${name.padEnd(18)}${row.summary}`)
    .join('\n')
}

/**
 * The row of `--client-auth value` for a command without `--cert`. An unknown method, or a
 * mutual TLS one, is a `UsageError` naming what that command takes.
 */
export function clientAuthWithoutCert(value: string, command: string): ClientAuthRow {
  const row = findClientAuth(value)
  if (row?.mtls)
    throw new UsageError(`--client-auth ${value} needs --cert, which only tokenwell token takes`, command)
  if (row) return row
  const names = Object.entries(CLIENT_AUTH_METHODS)
    .filter(([, method]) => !method.mtls)
    .map(([name]) => name)
  throw new UsageError(`--client-auth must be one of ${names.join(', ')}`, command)
}

/** The row for `value` (a short name or core's name), or undefined. */
export function findClientAuth(value: string): ClientAuthRow | undefined {
  return CLIENT_AUTH_METHODS[value] ?? Object.values(CLIENT_AUTH_METHODS).find((row) => row.method === value)
}

function parseJwk(text: string): JsonWebKey | string {
  try {
    return JSON.parse(text) as JsonWebKey
  } catch {
    // not JSON after all: core rejects it as a key without echoing it
    return text
  }
}
