import { discovery } from '../discovery/discover-endpoint.js'
import { readJsonObject, sendRequest } from '../endpoint/endpoint-exchange.js'
import { createTokenEndpointClient, type TokenEndpointClient } from '../endpoint/token-endpoint.js'
import { seconds } from '../endpoint/token-response.js'
import { ConfigError, DiscoveryError, TokenResponseError } from '../errors.js'
import { DEFAULT_DEVICE_INTERVAL } from '../grants/grants.js'
import { abortable } from '../provider/abortable.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type { TokenProviderOptions } from '../provider/options.js'
import { resolveOptions } from '../provider/resolve-options.js'
import { inspectSymbol, REDACTED } from '../redact.js'
import type { HeldSecrets } from '../redaction/request-secrets.js'
import { scrubFailure } from '../redaction/scrub.js'

/** The `grant_type` of the device code grant. @see RFC 8628 §3.4 */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'

export interface DeviceAuthorizationOptions
  extends Pick<
    TokenProviderOptions,
    | 'clientId'
    | 'clientSecret'
    | 'clientAuth'
    | 'scope'
    | 'audience'
    | 'resource'
    | 'extraParams'
    | 'timeout'
    | 'maxResponseBytes'
    | 'fetch'
    | 'clock'
    | 'allowInsecureHttp'
  > {
  /** The device authorization endpoint. Give this or `issuer`, not both. */
  deviceAuthorizationEndpoint?: string | URL | undefined
  /**
   * The issuer, whose metadata (RFC 8414, else OpenID Connect discovery) names the
   * `device_authorization_endpoint` and the client authentication methods it supports.
   */
  issuer?: string | URL | undefined
  /** Aborts the request (discovery included); the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/**
 * What the device authorization endpoint answered. Show the user `verificationUri` and
 * `userCode` (or `verificationUriComplete`); keep `deviceCode` to yourself: it is the
 * credential the tokens are polled with, and `util.inspect` / `JSON.stringify` redact it.
 * @see RFC 8628 §3.2
 */
export interface DeviceAuthorization {
  readonly deviceCode: string
  /** The code the user types at `verificationUri`. */
  readonly userCode: string
  /** Where the user goes, on any device with a browser. */
  readonly verificationUri: string
  /** `verificationUri` with the user code in it (for a link or a QR code), when the server sent one. */
  readonly verificationUriComplete?: string
  /** When the device code expires, epoch ms (measured from when the request was sent). */
  readonly expiresAt: number
  /** Wait between two polls of the token endpoint, ms. @default 5_000 */
  readonly interval: number
}

const KNOWN_KEYS = new Set([
  'deviceAuthorizationEndpoint',
  'issuer',
  'signal',
  'clientId',
  'clientSecret',
  'clientAuth',
  'scope',
  'audience',
  'resource',
  'extraParams',
  'timeout',
  'maxResponseBytes',
  'fetch',
  'clock',
  'allowInsecureHttp',
])

/**
 * Starts a device authorization (RFC 8628 §3.1): POSTs the client's identity and `scope` to
 * the device authorization endpoint, with the same client authentication, time limit and
 * response-size limit as a token request, and returns the codes to show the user. Then hand
 * it to a provider as `grant: deviceCodeGrant(authorization)` (`@tokenwell/core/device`):
 * its first `getToken()` polls until the user approves.
 *
 * Throws `ConfigError` for bad options, `DiscoveryError` when the issuer's metadata has no
 * `device_authorization_endpoint`, `OAuthError` for the server's OAuth error (e.g.
 * `invalid_client`, `invalid_scope`), `TokenResponseError` for an answer without the codes,
 * and `TokenRequestError` for a network failure or timeout.
 * @see RFC 8628 §3.1, §3.2
 * @example
 * const authorization = await startDeviceAuthorization({ issuer, clientId: 'my-cli', clientAuth: 'none', scope: 'openid offline_access' })
 * console.error(`Open ${authorization.verificationUri} and enter ${authorization.userCode}`)
 * const provider = createTokenProvider({ issuer, clientId: 'my-cli', clientAuth: 'none',
 *   grant: deviceCodeGrant(authorization) })
 * const token = await provider.getToken() // resolves once the user has approved
 */
export async function startDeviceAuthorization(
  input: DeviceAuthorizationOptions,
): Promise<DeviceAuthorization> {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options must be an object')
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown option "${key}"`)
  }
  const { deviceAuthorizationEndpoint, issuer, signal, ...client } = input
  if ((deviceAuthorizationEndpoint === undefined) === (issuer === undefined)) {
    throw new ConfigError('give exactly one of deviceAuthorizationEndpoint or issuer (issuer discovers it)')
  }
  const configured =
    deviceAuthorizationEndpoint === undefined
      ? undefined
      : parseEndpoint(
          'deviceAuthorizationEndpoint',
          deviceAuthorizationEndpoint,
          input.allowInsecureHttp === true,
        )
  // validated as a provider's options are: the same client authentication, limits and fetch
  const options = resolveOptions({
    ...client,
    // a device flow is a CLI's or a TV's, not a page's: it brings discovery along itself
    ...(configured !== undefined ? { tokenEndpoint: configured } : { issuer, discovery }),
    retry: false,
  })
  const endpointClient = createTokenEndpointClient(options)
  signal?.throwIfAborted()
  const fetch = options.fetch
  const send = signal
    ? (request: Request) => fetch(new Request(request, { signal: AbortSignal.any([request.signal, signal]) }))
    : fetch
  return abortable(
    (async () => {
      const endpoint = configured ?? (await discoveredEndpoint(endpointClient, options.allowInsecureHttp))
      const request = await endpointClient.prepareFor(endpoint, {})
      const requestedAt = options.clock()
      const held = { clientId: options.clientId, clientSecret: options.clientSecret }
      return sendRequest(
        { fetch: send, timeout: options.timeout, ...held },
        request,
        'device authorization',
        (response) =>
          parseDeviceAuthorizationResponse(response, requestedAt, options.maxResponseBytes, request, held),
      )
    })(),
    signal,
  )
}

async function discoveredEndpoint(client: TokenEndpointClient, allowInsecureHttp: boolean): Promise<URL> {
  const { metadata } = await client.endpoint()
  const value = metadata?.device_authorization_endpoint
  if (value === undefined) {
    throw new DiscoveryError(
      `metadata of ${metadata?.issuer} has no device_authorization_endpoint; pass deviceAuthorizationEndpoint`,
    )
  }
  try {
    return parseEndpoint('device_authorization_endpoint', value, allowInsecureHttp)
  } catch (cause) {
    throw new DiscoveryError(`metadata of ${metadata?.issuer} has no usable device_authorization_endpoint`, {
      cause,
    })
  }
}

const WHAT = 'device authorization'

/**
 * Validates the device authorization endpoint's answer to `request`; what it prints is free of
 * the device code and of the secrets of `request` and `held`.
 * @see RFC 8628 §3.2
 */
async function parseDeviceAuthorizationResponse(
  response: Response,
  requestedAt: number,
  maxBytes: number,
  request: Request,
  held: HeldSecrets,
): Promise<DeviceAuthorization> {
  const { status } = response
  const body = await readJsonObject(response, maxBytes, WHAT)
  const invalid = (name: string) =>
    new TokenResponseError(`${WHAT} response has no valid ${name}`, { status, response })
  const string = (name: string) => {
    const value = body[name]
    if (typeof value !== 'string' || value === '') throw invalid(name)
    return value
  }
  // the user is sent there (and `tokenwell login --open` opens it): only a web page will do
  const webPage = (name: string, value: unknown) => {
    if (typeof value !== 'string' || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
      throw invalid(name)
    return value
  }
  const deviceCode = string('device_code')
  const userCode = string('user_code')
  // Google spells it verification_url
  const verificationUri = webPage('verification_uri', body.verification_uri ?? body.verification_url)
  const verificationUriComplete =
    body.verification_uri_complete === undefined
      ? undefined
      : webPage('verification_uri_complete', body.verification_uri_complete)
  const expiresIn = seconds(body.expires_in)
  if (expiresIn === undefined || expiresIn <= 0) throw invalid('expires_in')
  const interval = body.interval === undefined ? DEFAULT_DEVICE_INTERVAL / 1000 : seconds(body.interval)
  if (interval === undefined) throw invalid('interval')
  const authorization: DeviceAuthorization = {
    deviceCode,
    userCode,
    verificationUri,
    ...(verificationUriComplete !== undefined && { verificationUriComplete }),
    expiresAt: requestedAt + expiresIn * 1000,
    interval: interval * 1000,
  }
  // the device code is a credential: logs and JSON show everything else, which the server may
  // have made of the device code or the client's secret (rule 5)
  const printed = await scrubFailure({ ...authorization, deviceCode: REDACTED }, request, {
    ...held,
    heldTokens: () => [deviceCode],
  })
  const shown = () => ({ ...(printed as object) })
  Object.defineProperties(authorization, {
    toJSON: { value: shown, enumerable: false },
    [inspectSymbol]: { value: () => `DeviceAuthorization ${JSON.stringify(shown())}`, enumerable: false },
  })
  return Object.freeze(authorization)
}
