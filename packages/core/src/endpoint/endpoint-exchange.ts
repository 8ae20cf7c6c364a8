import { OAuthError, TokenRequestError, TokenResponseError } from '../errors.js'
import type { ResolvedTokenProviderOptions } from '../provider/options.js'
import { parseErrorWithoutBody, printable } from '../redact.js'
import type { HeldSecrets } from '../redaction/request-secrets.js'
import { scrubFailure } from '../redaction/scrub.js'

// Talking to one of the authorization server's endpoints (token, device authorization,
// revocation): send within the timeout, refuse redirects, read a bounded JSON body, turn every
// failure into a typed error scrubbed of what was sent.

/** A `TokenResponseError` about `response`: `fail('has no access_token')` → "token response has no access_token". */
export function responseError(response: Response, what = 'token response') {
  return (message: string, cause?: unknown) =>
    new TokenResponseError(`${what} ${message}`, {
      status: response.status,
      response,
      ...(cause !== undefined && { cause }),
    })
}

/**
 * The JSON object a `what` endpoint (`token`, `device authorization`) answered with. An OAuth
 * error body (`error`, on a 4xx/5xx, or on any status without `successField`) is `OAuthError`;
 * anything else that is not a 2xx JSON object is `TokenResponseError`.
 * @see RFC 6749 §5.2, RFC 8628 §3.2
 */
export async function readJsonObject(
  response: Response,
  maxBytes: number,
  what: string,
  successField?: string,
): Promise<Record<string, unknown>> {
  const { status } = response
  const fail = responseError(response, `${what} endpoint returned`)
  const text = await readBody(response, maxBytes, what)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    const type = response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type'
    throw fail(`${type}, not JSON (HTTP ${status})`, parseErrorWithoutBody(error))
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw fail(`JSON that is not an object (HTTP ${status})`)
  const body = json as Record<string, unknown>
  const failed = status >= 400 || (successField !== undefined && body[successField] === undefined)
  if (typeof body.error === 'string' && failed) {
    throw new OAuthError(printable(body.error), status, {
      ...(typeof body.error_description === 'string' && { errorDescription: body.error_description }),
      ...(typeof body.error_uri === 'string' && { errorUri: body.error_uri }),
      response,
      endpoint: `${what} endpoint`,
    })
  }
  if (status < 200 || status > 299) throw fail(`HTTP ${status} without an OAuth error`)
  return body
}

/** Reads at most `maxBytes` of the body; a larger body is an error, not a memory problem. */
export async function readBody(response: Response, maxBytes: number, what = 'token'): Promise<string> {
  const tooLarge = () => responseError(response, what)(`response body is larger than ${maxBytes} bytes`)
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) throw tooLarge()
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    // the connection lost mid-body: the server answered (a refresh token in the request is spent)
    const { done, value } = await reader.read().catch((cause: unknown) => {
      throw new TokenRequestError(`${what} response body could not be read: network error`, { cause })
    })
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

/**
 * Sends `request` to one of the authorization server's endpoints (`what`: `token`, `device
 * authorization`) and hands the response to `read`, all within `timeout` ms (connect, headers
 * and body). A redirect is refused: following it would re-send the client's credentials
 * elsewhere. Network failures and timeouts become `TokenRequestError`. Every error is scrubbed
 * of the request's secrets and those the provider holds (`clientSecret`, `grant`), cause included.
 */
export async function sendRequest<T>(
  options: Pick<ResolvedTokenProviderOptions, 'fetch' | 'timeout'> & HeldSecrets,
  request: Request,
  what: string,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(options.timeout)
  const failed = (cause: unknown, how = `timed out after ${options.timeout} ms`) =>
    new TokenRequestError(`${what} request ${how}`, { cause })
  const timedOut = new Promise<never>((_, reject) => {
    timeout.addEventListener('abort', () => reject(failed(timeout.reason)))
  })
  timedOut.catch(() => {})
  const attempt = (async () => {
    let response: Response
    try {
      response = await options.fetch(new Request(request, { signal: timeout }))
    } catch (cause) {
      throw timeout.aborted ? failed(cause) : failed(cause, 'failed: network error')
    }
    if (response.status >= 300 && response.status < 400) {
      // an endpoint that redirects would have us re-send credentials elsewhere: refuse
      throw responseError(
        response,
        `${what} endpoint`,
      )(`redirected (HTTP ${response.status}); configure the final URL`)
    }
    return read(response)
  })().catch(async (error: unknown) => {
    // what was sent is what a server (or a fetch) may echo: every failure is scrubbed of it (rule 5)
    throw await scrubFailure(error, request, options)
  })
  return Promise.race([attempt, timedOut])
}
