import type { Grant, GrantType } from '@tokenwell/core'
import type { SecretName } from './secrets.js'

/** The values a grant is built from: plain options and secrets, by name. */
export type GrantInputs = Readonly<Record<string, string | undefined>>

/** How one `--grant` value maps onto core. */
export interface GrantRow {
  readonly type: GrantType
  /** Plain string options (`--username`), required unless listed in `optional`. */
  readonly plain: readonly string[]
  /** Secrets, required unless listed in `optional`. */
  readonly secrets: readonly SecretName[]
  readonly optional: readonly string[]
  /** Builds core's grant from the inputs (required ones are present). */
  build(inputs: GrantInputs): Grant
}

const required = (inputs: GrantInputs, name: string) => inputs[name] as string
const optional = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }

/**
 * `--grant` values. Every grant core supports, by its short name; the URN grants also by their
 * full `grant_type`. @see RFC 6749 §4.1, §4.3, §4.4, §6, RFC 7523 §2.1, RFC 8693 §2.1
 */
export const GRANTS: Readonly<Record<string, GrantRow>> = {
  client_credentials: {
    type: 'client_credentials',
    plain: [],
    secrets: [],
    optional: [],
    build: () => ({ type: 'client_credentials' }),
  },
  password: {
    type: 'password',
    plain: ['username'],
    secrets: ['password'],
    optional: [],
    build: (i) => ({
      type: 'password',
      username: required(i, 'username'),
      password: required(i, 'password'),
    }),
  },
  refresh_token: {
    type: 'refresh_token',
    plain: [],
    secrets: ['refreshToken'],
    optional: [],
    build: (i) => ({ type: 'refresh_token', refreshToken: required(i, 'refreshToken') }),
  },
  authorization_code: {
    type: 'authorization_code',
    plain: ['redirect-uri'],
    secrets: ['code', 'codeVerifier'],
    optional: ['codeVerifier'],
    build: (i) => ({
      type: 'authorization_code',
      code: required(i, 'code'),
      redirectUri: required(i, 'redirect-uri'),
      ...optional('codeVerifier', i['codeVerifier']),
    }),
  },
  'jwt-bearer': {
    type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    plain: [],
    secrets: ['assertion'],
    optional: [],
    build: (i) => ({
      type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: required(i, 'assertion'),
    }),
  },
  'token-exchange': {
    type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    plain: ['subject-token-type', 'actor-token-type', 'requested-token-type'],
    secrets: ['subjectToken', 'actorToken'],
    optional: ['subject-token-type', 'actor-token-type', 'requested-token-type', 'actorToken'],
    build: (i) => ({
      type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subjectToken: required(i, 'subjectToken'),
      ...optional('subjectTokenType', i['subject-token-type']),
      ...optional('actorToken', i['actorToken']),
      ...optional('actorTokenType', i['actor-token-type']),
      ...optional('requestedTokenType', i['requested-token-type']),
    }),
  },
}

/** The row for `value` (a short name or core's `grant_type`), or undefined. */
export function findGrant(value: string): GrantRow | undefined {
  return GRANTS[value] ?? Object.values(GRANTS).find((row) => row.type === value)
}

/** Every plain option some grant takes (each is rejected with any other grant). */
export const GRANT_PLAIN_OPTIONS: readonly string[] = [
  ...new Set(Object.values(GRANTS).flatMap((g) => g.plain)),
]
