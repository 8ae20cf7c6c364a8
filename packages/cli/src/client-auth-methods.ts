import type { ClientAuthMethod } from '@tokenwell/core'
import type { SecretName } from './secrets.js'

/** How one `--client-auth` value maps onto core. */
export interface ClientAuthRow {
  /** Core's name for it. */
  readonly method: ClientAuthMethod
  /** The secret it needs, read from `--<flag>-env`, `-file`, `-stdin` (see `SECRETS`). */
  readonly secret?: SecretName
  /** One line for `--help`. */
  readonly summary: string
}

/**
 * `--client-auth` values. A new core method is one row here (plus, if it needs a new kind of
 * secret such as a private key, one entry in `SECRETS`). Core's own names are accepted too.
 * @see RFC 6749 §2.3.1, RFC 7523 §2.2
 */
export const CLIENT_AUTH_METHODS: Readonly<Record<string, ClientAuthRow>> = {
  basic: { method: 'client_secret_basic', secret: 'clientSecret', summary: 'HTTP Basic (default)' },
  post: { method: 'client_secret_post', secret: 'clientSecret', summary: 'id and secret in the form body' },
  none: { method: 'none', summary: 'public client: client_id only' },
}

/** The row for `value` (a short name or core's name), or undefined. */
export function findClientAuth(value: string): ClientAuthRow | undefined {
  return CLIENT_AUTH_METHODS[value] ?? Object.values(CLIENT_AUTH_METHODS).find((row) => row.method === value)
}
