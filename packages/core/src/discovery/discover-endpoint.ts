import { ConfigError, DiscoveryError } from '../errors.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type {
  Discovery,
  ResolvedEndpoint,
  ResolvedTokenProviderOptions,
  TokenProviderOptions,
} from '../provider/options.js'
import { scrubFailure } from '../redaction/scrub.js'
import { discoverAuthorizationServer } from './discovery.js'
import { endpointFor } from './mtls-aliases.js'
import { discoverResourceIssuer } from './protected-resource.js'

/** The token endpoint and client authentication of a provider with `issuer` / `protectedResource`. */
async function discoverEndpoint(options: ResolvedTokenProviderOptions): Promise<ResolvedEndpoint> {
  const discovery = {
    fetch: options.fetch,
    timeout: options.timeout,
    allowInsecureHttp: options.allowInsecureHttp,
  }
  // the server knows the client's secret, and may echo it here too (rule 5)
  const scrubbed = async (error: unknown) => {
    throw await scrubFailure(error, undefined, options)
  }
  // RFC 9728: the resource names its authorization server
  const issuer =
    options.protectedResource === undefined
      ? (options.issuer as string)
      : await discoverResourceIssuer(options.protectedResource, options.issuer, discovery).catch(scrubbed)
  const metadata = await discoverAuthorizationServer(issuer, discovery).catch(scrubbed)
  // loaded already, by the discovery above
  const { chooseClientAuth } = await import('./metadata.js')
  const clientAuth = chooseClientAuth(options, metadata)
  const alias = endpointFor(metadata, 'token_endpoint', clientAuth)
  const tokenEndpoint =
    alias === metadata.token_endpoint
      ? new URL(metadata.token_endpoint)
      : parseAlias(alias, options.allowInsecureHttp)
  // the metadata is the server's text: every event and log line shows this URL (rule 5)
  const shownEndpoint = (await scrubFailure(tokenEndpoint.href, undefined, options)) as string
  return { tokenEndpoint, clientAuth, metadata, shownEndpoint }
}

/** An `mtls_endpoint_aliases` URL, checked as the plain endpoint is. @see RFC 8705 §5 */
function parseAlias(alias: unknown, allowInsecureHttp: boolean): URL {
  try {
    return parseEndpoint('mtls_endpoint_aliases.token_endpoint', alias, allowInsecureHttp)
  } catch (cause) {
    throw new DiscoveryError('metadata has no usable mtls_endpoint_aliases.token_endpoint', { cause })
  }
}

/** An issuer identifier: an http(s) URL without query or fragment. @see RFC 8414 §2 */
function parseIssuer(value: unknown, allowInsecureHttp: boolean): string {
  const url = parseEndpoint('issuer', value, allowInsecureHttp)
  if (url.search) throw new ConfigError('issuer must not contain a query (RFC 8414 §2)')
  return typeof value === 'string' ? value.trim() : url.href
}

/** `Discovery.options`: the issuer and protected resource, checked; the resource joins `resource`. */
function discoveryOptions(
  input: Pick<TokenProviderOptions, 'issuer' | 'protectedResource'>,
  resource: readonly string[],
  allowInsecureHttp: boolean,
) {
  const issuer = input.issuer === undefined ? undefined : parseIssuer(input.issuer, allowInsecureHttp)
  const protectedResource =
    input.protectedResource === undefined
      ? undefined
      : parseEndpoint('protectedResource', input.protectedResource, allowInsecureHttp).href
  // RFC 9728: tokens for a protected resource are requested for it (RFC 8707 `resource`)
  const listed =
    protectedResource === undefined || resource.some((item) => new URL(item).href === protectedResource)
  return {
    issuer,
    protectedResource,
    resource: listed ? resource : Object.freeze([...resource, protectedResource]),
  }
}

/**
 * Authorization server discovery (RFC 8414, else OpenID Connect discovery; RFC 9728 for a
 * `protectedResource`), for the `discovery` option that goes with `issuer` or
 * `protectedResource`: the provider reads the metadata once, on its first token request.
 * @see RFC 8414 §3, RFC 9728 §3, OpenID Connect Discovery 1.0 §4
 * @example
 * import { discovery } from '@tokenwell/core/discovery'
 * createTokenProvider({ issuer: 'https://login.example.com', discovery, clientId, clientSecret })
 */
export const discovery: Discovery = Object.freeze({
  endpoint: discoverEndpoint,
  metadata: discoverAuthorizationServer,
  options: discoveryOptions,
})
