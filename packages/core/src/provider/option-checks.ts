import { IN_BROWSER } from '../adapter/origin.js'
import { ConfigError } from '../errors.js'
import { DEFAULT_DEVICE_INTERVAL, GRANT_PARAMS, GRANT_TYPES, type Grant } from '../grants/grants.js'

// Checks of option values, for resolveOptions() and for the option parsers of discovery, the flows,
// revocation and the adapter protocol: each returns the value, or throws a `ConfigError` naming the option.

/**
 * Whether `url` points at this machine (plain http is acceptable there): `localhost`, 127.0.0.0/8
 * or `[::1]`. A name under `.localhost` counts only in a browser, which resolves it to loopback
 * itself; Node asks DNS for it (RFC 6761 §6.3 leaves that to the resolver), which may answer with
 * any host, and a token sent there over plain http is in the clear.
 */
export function isLoopback(url: URL): boolean {
  const host = url.hostname
  return (
    host === 'localhost' ||
    (IN_BROWSER && host.endsWith('.localhost')) ||
    host === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  )
}

/** Parses an absolute http(s) URL option; the message never echoes the URL (it may hold credentials). */
export function parseEndpoint(name: string, value: unknown, allowInsecureHttp: boolean): URL {
  let url: URL | undefined
  try {
    url = typeof value === 'string' || value instanceof URL ? new URL(value) : undefined
  } catch {}
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:')
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  if (url.username || url.password)
    throw new ConfigError(`${name} must not contain credentials (user:password@)`)
  if (url.hash) throw new ConfigError(`${name} must not contain a fragment`)
  if (url.protocol === 'http:' && !isLoopback(url) && !allowInsecureHttp) {
    throw new ConfigError(
      `${name} must be https: (plain http is allowed on loopback, or with allowInsecureHttp)`,
    )
  }
  return url
}

/** `value` when it is a string with more than white space. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigError(`${name} must be a non-empty string`)
  return value
}

/** `value` when it is `true` or `false`. */
export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${name} must be true or false`)
  return value
}

/** `value` when it is a finite number of milliseconds ≥ `min`. */
export function duration(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number of milliseconds ≥ ${min}`)
  }
  return value
}

/** `value` when it is an integer ≥ 1. */
export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be an integer ≥ 1`)
  return value
}

/** The `scope` option as one space-delimited string, `undefined` when empty. @see RFC 6749 §3.3 */
export function normaliseScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined
  const list = typeof scope === 'string' ? scope.split(/\s+/) : Array.isArray(scope) ? scope : undefined
  if (!list) throw new ConfigError('scope must be a string or an array of strings')
  for (const item of list) {
    if (typeof item !== 'string' || (typeof scope !== 'string' && /[\s"\\]/.test(item))) {
      throw new ConfigError('scope entries must be strings without spaces')
    }
  }
  const joined = list.filter(Boolean).join(' ')
  return joined === '' ? undefined : joined
}

/** The `resource` option as a frozen list of absolute URIs. @see RFC 8707 §2 */
export function normaliseResource(resource: string | readonly string[] | undefined): readonly string[] {
  if (resource === undefined) return []
  const list = typeof resource === 'string' ? [resource] : resource
  if (!Array.isArray(list)) throw new ConfigError('resource must be a URI or an array of URIs')
  for (const item of list) {
    // RFC 8707 §2: an absolute URI without a fragment
    let ok = false
    try {
      ok = typeof item === 'string' && new URL(item).hash === '' && !item.includes('#')
    } catch {}
    if (!ok) throw new ConfigError('resource must be an absolute URI without a fragment (RFC 8707 §2)')
  }
  return Object.freeze([...list])
}

/** A frozen copy of `grant`, checked for the fields its type needs (a device grant gets its `interval`). */
export function validateGrant(grant: Grant): Grant {
  if (typeof grant !== 'object' || grant === null || !GRANT_TYPES.includes(grant.type)) {
    throw new ConfigError(`grant.type must be one of ${GRANT_TYPES.join(', ')}`)
  }
  const fields = grant as unknown as Record<string, unknown>
  // the string field the grant type needs (a function is also accepted where it may be one)
  const field = Object.values(GRANT_PARAMS[grant.type])[0]
  if (grant.type === 'urn:ietf:params:oauth:grant-type:device_code' && typeof grant.poller !== 'function')
    throw new ConfigError('a device code grant is made by deviceCodeGrant() from @tokenwell/core/device')
  // a JWT bearer assertion and a subject token may be functions that make one per request
  const lazy = (field === 'assertion' || field === 'subjectToken') && typeof fields[field] === 'function'
  if (field !== undefined && !lazy) nonEmptyString(`grant.${field}`, fields[field])
  switch (grant.type) {
    case 'password':
      if (typeof grant.password !== 'string') throw new ConfigError('grant.password must be a string')
      break
    case 'authorization_code':
      if (typeof grant.redirectUri !== 'string' || !URL.canParse(grant.redirectUri)) {
        throw new ConfigError('grant.redirectUri must be an absolute URI')
      }
      break
    case 'urn:ietf:params:oauth:grant-type:device_code':
      if (grant.expiresAt !== undefined && !Number.isFinite(grant.expiresAt))
        throw new ConfigError('grant.expiresAt must be an instant in epoch ms')
      return Object.freeze({
        ...grant,
        interval: duration('grant.interval', grant.interval ?? DEFAULT_DEVICE_INTERVAL),
      })
  }
  return Object.freeze({ ...grant })
}
