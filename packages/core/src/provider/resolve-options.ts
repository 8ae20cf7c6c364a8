import { unwrapFetch } from '../adapter/bare-fetch.js'
import { ConfigError } from '../errors.js'
import { GRANT_PARAMS } from '../grants/grants.js'
import { createMemoryTokenStore } from '../store.js'
import {
  boolean,
  duration,
  nonEmptyString,
  normaliseResource,
  normaliseScope,
  parseEndpoint,
  positiveInteger,
  validateGrant,
} from './option-checks.js'
import type {
  ClientAuthMethod,
  Discovery,
  ResolvedRetryOptions,
  ResolvedTokenProviderOptions,
  TokenProviderOptions,
} from './options.js'

/** Options that are numbers, with their defaults and least values: `int` ones are integers ≥ 1, the rest ms. */
const NUMBERS = {
  refreshSkew: [30_000, 0],
  defaultLifetime: [300_000, 1],
  timeout: [10_000, 1],
  failureCooldown: [1_000, 0],
  maxResponseBytes: [262_144, 'int'],
  lockTtl: [15_000, 1],
} as const satisfies Record<string, readonly [number, number | 'int']>
const RETRY = {
  attempts: [3, 'int'],
  minDelay: [200, 0],
  maxDelay: [5_000, 0],
  deadline: [30_000, 0],
} as const satisfies Record<keyof ResolvedRetryOptions, readonly [number, number | 'int']>

const KNOWN_KEYS = new Set<string>([
  ...Object.keys(NUMBERS),
  ...'tokenEndpoint issuer protectedResource discovery revocation revocationEndpoint clientId clientSecret clientAuth dpop grant scope audience resource extraParams refreshAhead retry store fetch clock logger allowInsecureHttp'.split(
    ' ',
  ),
])
const CLIENT_AUTH =
  'client_secret_basic client_secret_post private_key_jwt client_secret_jwt none tls_client_auth self_signed_tls_client_auth'.split(
    ' ',
  )
const JWT_METHODS = CLIENT_AUTH.slice(2, 4)
/** Methods that send no secret: nothing, a signed assertion, or a TLS client certificate. */
const SECRETLESS = ['private_key_jwt', ...CLIENT_AUTH.slice(4)]
/** Parameters tokenwell sets itself; `extraParams` may not override them. */
const RESERVED_PARAMS = new Set([
  ...'grant_type client_id client_secret client_assertion client_assertion_type scope audience resource'.split(
    ' ',
  ),
  ...Object.values(GRANT_PARAMS).flatMap((params) => Object.keys(params)),
])
const JWT_ENTRY = 'from @tokenwell/core/jwt'

/** Options that moved to a plug-in of their own entry, so that who does not use them does not bundle them. */
const MOVED: Record<string, string> = {
  privateKey: `clientAuth: privateKeyJwt({ privateKey }) ${JWT_ENTRY}`,
  clientAssertion: `privateKeyJwt() / clientSecretJwt() ${JWT_ENTRY}`,
}

/** Validates `input` once, applies defaults, and returns a frozen result. Throws `ConfigError` naming the option. */
export function resolveOptions(input: TokenProviderOptions): ResolvedTokenProviderOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options must be an object')
  for (const key of Object.keys(input)) {
    // a typo such as `clientSecert` fails loudly instead of silently sending no secret
    if (MOVED[key] !== undefined) throw new ConfigError(`option "${key}" moved: use ${MOVED[key]}`)
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown option "${key.slice(0, 40)}"`)
  }
  const discovered = input.issuer !== undefined || input.protectedResource !== undefined
  if ((input.tokenEndpoint === undefined) !== discovered) {
    throw new ConfigError('give exactly one of tokenEndpoint or issuer/protectedResource')
  }
  if (discovered && typeof input.discovery?.options !== 'function') {
    throw new ConfigError('issuer and protectedResource need discovery from @tokenwell/core/discovery')
  }
  const insecure = input.allowInsecureHttp === true
  const endpoint = (name: 'tokenEndpoint' | 'revocationEndpoint') =>
    input[name] === undefined ? undefined : parseEndpoint(name, input[name], insecure)
  const tokenEndpoint = endpoint('tokenEndpoint')
  const resource = normaliseResource(input.resource)
  // the issuer and resource checks come with the discovery plug-in
  const found = discovered ? (input.discovery as Discovery).options(input, resource, insecure) : undefined
  const clientId = nonEmptyString('clientId', input.clientId)
  const clientAssertion =
    typeof input.clientAuth === 'object' && input.clientAuth !== null ? input.clientAuth : undefined
  const clientAuth = (clientAssertion?.method ?? input.clientAuth ?? CLIENT_AUTH[0]) as string
  if (clientAssertion ? typeof clientAssertion.sign !== 'function' : JWT_METHODS.includes(clientAuth)) {
    throw new ConfigError(
      `clientAuth "${clientAuth}" signs: use ${clientAuth === 'private_key_jwt' ? 'privateKeyJwt({ privateKey })' : 'clientSecretJwt()'} ${JWT_ENTRY}`,
    )
  }
  if (!CLIENT_AUTH.includes(clientAuth)) {
    throw new ConfigError(`clientAuth must be one of ${CLIENT_AUTH.join(', ')}`)
  }
  const secretless = SECRETLESS.includes(clientAuth)
  const clientSecret = input.clientSecret
  if (!secretless) {
    if (clientSecret === undefined) {
      throw new ConfigError(
        `clientSecret is required for clientAuth "${clientAuth}" (use clientAuth: 'none' for a public client)`,
      )
    }
    nonEmptyString('clientSecret', clientSecret)
  }
  const grant = validateGrant(input.grant ?? { type: 'client_credentials' })
  const extraParams = input.extraParams ?? {}
  for (const [name, value] of Object.entries(extraParams)) {
    if (RESERVED_PARAMS.has(name))
      throw new ConfigError(`extraParams.${name} is set by tokenwell; use the matching option`)
    if (typeof value !== 'string') throw new ConfigError(`extraParams.${name} must be a string`)
  }
  const retry = numbers<keyof typeof RETRY>(
    RETRY,
    input.retry === false ? { attempts: 1 } : input.retry || {},
    'retry.',
  )
  for (const name of ['fetch', 'clock'] as const)
    if (input[name] !== undefined && typeof input[name] !== 'function')
      throw new ConfigError(`${name} must be a function`)
  const clock = input.clock ?? (() => Date.now())

  return Object.freeze({
    ...numbers<keyof typeof NUMBERS>(NUMBERS, input),
    tokenEndpoint,
    issuer: found?.issuer,
    clientId,
    protectedResource: found?.protectedResource,
    discovery: discovered ? input.discovery : undefined,
    revocationEndpoint: endpoint('revocationEndpoint'),
    revocation: plugin(
      'revocation',
      input.revocation,
      'revoke',
      'revocation from @tokenwell/core/revocation',
    ),
    clientSecret: secretless ? undefined : clientSecret,
    clientAuth: clientAuth as ClientAuthMethod,
    clientAuthExplicit: input.clientAuth !== undefined,
    clientAssertion,
    dpop: plugin(
      'dpop',
      (input.dpop as unknown) === false ? undefined : input.dpop,
      'tokenRequest',
      'createDpop() from @tokenwell/core/dpop',
    ),
    grant,
    scope: normaliseScope(input.scope),
    audience: input.audience === undefined ? undefined : nonEmptyString('audience', input.audience),
    resource: found?.resource ?? resource,
    extraParams: Object.freeze({ ...extraParams }),
    refreshAhead: boolean('refreshAhead', input.refreshAhead ?? true),
    retry,
    store: input.store ?? createMemoryTokenStore({ clock }),
    // resolved per call, so tests (and polyfills) can replace the global after construction
    fetch: input.fetch ?? ((request: Request) => unwrapFetch(globalThis.fetch)(request)),
    clock,
    logger: input.logger,
    allowInsecureHttp: insecure,
  })
}

/** Each number option of `table`, from `input` or its default, checked against its least value. */
function numbers<K extends string>(
  table: Readonly<Record<K, readonly [number, number | 'int']>>,
  input: Partial<Record<K, unknown>>,
  prefix = '',
): Record<K, number> {
  const out = {} as Record<K, number>
  for (const name in table) {
    const [fallback, min] = table[name]
    // a top-level `null` takes the default, as `undefined` does; inside `retry` only `undefined` does
    const value = prefix ? (input[name] === undefined ? fallback : input[name]) : (input[name] ?? fallback)
    out[name] = min === 'int' ? positiveInteger(prefix + name, value) : duration(prefix + name, value, min)
  }
  return out
}

/** A plug-in option: `undefined`, or an object with the function `method`. */
function plugin<T>(name: string, value: T, method: string, what: string): T | undefined {
  if (value !== undefined && typeof (value as Record<string, unknown> | null)?.[method] !== 'function')
    throw new ConfigError(`${name} takes ${what}`)
  return value
}
