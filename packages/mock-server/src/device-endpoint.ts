import { authenticateClient } from './client-auth.js'
import { DEVICE_CODE_GRANT, decideDevice, newUserCode, normaliseUserCode } from './device-registry.js'
import { failureResponse, jsonResponse, OAuthFailure } from './oauth-response.js'
import { type AuthServerState, randomToken } from './state.js'
import { clientAuthInput, readForm } from './token-endpoint.js'

/**
 * The device authorization endpoint: authenticates the client as the token endpoint does, checks
 * the scope, and answers the codes with `verification_uri` = `${issuer}/device`.
 * @see RFC 8628 §3.1, §3.2
 */
export async function handleDeviceAuthorizationRequest(
  state: AuthServerState,
  request: Request,
): Promise<Response> {
  state.stats.deviceAuthorizationRequests++
  try {
    if (request.method !== 'POST') {
      throw new OAuthFailure('invalid_request', 'the device authorization endpoint takes POST', {
        status: 405,
        headers: { allow: 'POST' },
      })
    }
    const { options, devices } = state
    const params = await readForm(request)
    const { client } = await authenticateClient(clientAuthInput(state, request, params))
    if (client.grantTypes !== undefined && !client.grantTypes.includes(DEVICE_CODE_GRANT)) {
      throw new OAuthFailure('unauthorized_client', 'client may not use the device code grant')
    }
    const requested = (params.get('scope') ?? '').split(' ').filter(Boolean)
    for (const scope of requested) {
      if ([options.scopes, client.scopes].some((list) => list !== undefined && !list.includes(scope))) {
        throw new OAuthFailure('invalid_scope', `scope not allowed: ${scope}`)
      }
    }
    const deviceCode = randomToken()
    let userCode = newUserCode()
    while (devices.byUserCode.has(normaliseUserCode(userCode))) userCode = newUserCode()
    devices.byDeviceCode.set(deviceCode, {
      clientId: client.clientId,
      userCode,
      scope: requested.length > 0 ? [...new Set(requested)].join(' ') : client.scopes?.join(' '),
      expiresAt: options.clock() + options.deviceCodeLifetime * 1000,
      interval: options.deviceInterval * 1000,
      lastPolledAt: undefined,
      status: 'pending',
      user: undefined,
    })
    devices.byUserCode.set(normaliseUserCode(userCode), deviceCode)
    const verificationUri = `${options.issuer}/device`
    return jsonResponse({
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${userCode}`,
      expires_in: options.deviceCodeLifetime,
      interval: options.deviceInterval,
    })
  } catch (thrown) {
    return failureResponse(thrown)
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

const page = (title: string, body: string, status = 200) =>
  new Response(
    `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1>${body}`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } },
  )

/**
 * The verification page, for people trying the device flow by hand: GET shows a form for the
 * user code (filled in from `?user_code=`), POST approves or denies it as the first user (or
 * `username`). Tests use `approveDevice()` / `denyDevice()` instead.
 * @see RFC 8628 §3.3
 */
export async function handleDeviceVerification(state: AuthServerState, request: Request): Promise<Response> {
  if (request.method === 'POST') {
    const form = new URLSearchParams(await request.text())
    const action = form.get('action') === 'deny' ? 'deny' : 'approve'
    let decided: boolean
    try {
      decided = decideDevice(state, form.get('user_code') ?? '', action, form.get('username') || undefined)
    } catch {
      return page('Unknown user', '<p>No such user. Go back and try again.</p>', 400)
    }
    if (!decided) return page('Unknown code', '<p>That code is unknown, expired or already used.</p>', 400)
    return action === 'deny'
      ? page('Request denied', '<p>The device will not be signed in. You can close this window.</p>')
      : page('Device approved', '<p>Return to your device. You can close this window.</p>')
  }
  const code = escapeHtml(new URL(request.url).searchParams.get('user_code') ?? '')
  return page(
    'Connect a device',
    `<form method="post"><p><label>Code <input name="user_code" value="${code}" autocomplete="off"></label></p>` +
      '<p><button name="action" value="approve">Approve</button> <button name="action" value="deny">Deny</button></p></form>',
  )
}
