import fc from 'fast-check'

/** Characters that change under form-, percent-, JSON-, HTML- or base64-encoding, among plain ones. */
const UNITS = [
  ...'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789',
  ...' +%&=:;"\'\\/<>?#é€😀\n\t~-._',
]

/** A secret of 8 to 40 characters; many of them change under some encoding. */
export const secretArb = fc.string({ unit: fc.constantFrom(...UNITS), minLength: 8, maxLength: 40 })

/** What a token request carried: its credential headers and form parameters. */
export interface SentRequest {
  url: string
  headers: Record<string, string>
  params: [string, string][]
  body: string
}

type Encoding = 'raw' | 'form' | 'form20' | 'json' | 'html' | 'base64'
const encode: Record<Encoding, (value: string) => string> = {
  raw: (v) => v,
  form: (v) => new URLSearchParams({ v }).toString().slice(2),
  form20: (v) => new URLSearchParams({ v }).toString().slice(2).replaceAll('+', '%20'),
  json: (v) => JSON.stringify(v).slice(1, -1),
  html: (v) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  base64: (v) => btoa(String.fromCharCode(...new TextEncoder().encode(v))),
}
/** Encodings whose output is a valid header value or status text. */
const HEADER_SAFE: Encoding[] = ['form', 'form20', 'base64']

/** One echoed fragment: which value of the request, in which encoding, whole or a ≥ 12-character cut. */
interface Fragment {
  pick: number
  encoding: Encoding
  cut?: { start: number; length: number } | undefined
}
const fragmentArb = fc.record({
  pick: fc.nat(),
  encoding: fc.constantFrom<Encoding>('raw', 'form', 'form20', 'json', 'html', 'base64'),
  cut: fc.option(fc.record({ start: fc.nat(), length: fc.integer({ min: 12, max: 60 }) }), {
    nil: undefined,
  }),
})

const KINDS = [
  'json-error',
  'json-5xx',
  'html',
  'text',
  'token-type',
  'short',
  'header',
  'status-text',
  'fetch-throws',
] as const
export type EchoKind = (typeof KINDS)[number]
export interface EchoTemplate {
  kind: EchoKind
  fragments: Fragment[]
  /** Text the server puts between fragments. */
  glue: string
}
export const templateArb: fc.Arbitrary<EchoTemplate> = fc.record({
  kind: fc.constantFrom(...KINDS),
  fragments: fc.array(fragmentArb, { minLength: 1, maxLength: 4 }),
  glue: fc.constantFrom(' ', '', ' near ', '; ', '\n', '","'),
})

/** The values a server can echo: each header value, each parameter value, the body, the whole request. */
function material(sent: SentRequest, extra: readonly string[]): string[] {
  const dump = `POST ${sent.url}\n${Object.entries(sent.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n\n${sent.body}`
  return [...Object.values(sent.headers), ...sent.params.map(([, v]) => v), sent.body, dump, ...extra]
}

function render(sent: SentRequest, template: EchoTemplate, extra: readonly string[], safe = false): string {
  const values = material(sent, extra)
  return template.fragments
    .map(({ pick, encoding, cut }) => {
      const value = values[pick % values.length] as string
      const encoded = (safe && !HEADER_SAFE.includes(encoding) ? encode.base64 : encode[encoding])(value)
      return cut ? encoded.slice(cut.start % encoded.length).slice(0, cut.length) : encoded
    })
    .join(template.glue)
}

/**
 * The answer of a server that echoes the request as `template` says. `extra` are values it
 * knows without being sent them (the client's secret, `id:secret` base64-encoded as is).
 */
export function echoResponse(sent: SentRequest, template: EchoTemplate, extra: readonly string[]): Response {
  const text = render(sent, template, extra)
  const json = (status: number, body: unknown, init: ResponseInit = {}) =>
    new Response(JSON.stringify(body), {
      status,
      ...init,
      headers: { 'content-type': 'application/json', ...init.headers },
    })
  switch (template.kind) {
    case 'json-error':
      return json(400, {
        error: text,
        error_description: `bad request: ${text}`,
        error_uri: `https://as.test/e?q=${text}`,
      })
    case 'json-5xx':
      return json(503, { error: 'temporarily_unavailable', error_description: `upstream said ${text}` })
    case 'html':
      return new Response(`<html><body><h1>500</h1><pre>${text}</pre></body></html>`, {
        status: 500,
        headers: { 'content-type': 'text/html' },
      })
    case 'text':
      return new Response(`Bad Request\n${text}`, { status: 400, headers: { 'content-type': 'text/plain' } })
    case 'token-type':
      // an echo that happens to be a type the client accepts (`bearer`, the end of `…:jwt-bearer`)
      // would make a valid answer: the server's is always one the client refuses
      return json(200, {
        access_token: 'at-1',
        token_type: /^(bearer|dpop)$/i.test(text) ? `${text}+` : text,
        expires_in: 60,
      })
    case 'short':
      return new Response(text, { status: 502 })
    case 'header':
      return json(
        503,
        { error: 'temporarily_unavailable' },
        { headers: { 'x-echo': render(sent, template, extra, true) } },
      )
    case 'status-text':
      return json(
        503,
        { error: 'temporarily_unavailable' },
        { statusText: render(sent, template, extra, true) },
      )
    case 'fetch-throws':
      // as a mocking library or a logging fetch might: the request quoted in the cause
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(`socket hang up while sending ${text}`), {
          code: 'ECONNRESET',
          request: { headers: sent.headers, body: sent.body },
        }),
      })
  }
}

/** Reads what a request carried (the fetch function of the property test). */
export async function readSent(request: Request): Promise<SentRequest> {
  const body = await request.text()
  const headers: Record<string, string> = {}
  request.headers.forEach((value, name) => {
    headers[name] = value
  })
  return { url: request.url, headers, params: [...new URLSearchParams(body)], body }
}

// Written from the RFCs, not imported from the scrubber: a parameter the scrubber forgot must
// fail these tests, not be forgotten here too.
const SECRET_PARAMS = [
  'client_secret', // RFC 6749 §2.3.1
  'client_assertion', // RFC 7521 §4.2
  'password', // RFC 6749 §4.3.2
  'refresh_token', // RFC 6749 §6
  'code', // RFC 6749 §4.1.3
  'code_verifier', // RFC 7636 §4.5
  'device_code', // RFC 8628 §3.4
  'assertion', // RFC 7521 §4.1
  'subject_token', // RFC 8693 §2.1
  'actor_token', // RFC 8693 §2.1
  'token', // RFC 7009 §2.1
]

/** A fetch that echoes every request as `template` says, and remembers what was sent. */
export function echoingFetch(template: EchoTemplate, known: string[]) {
  const sent: SentRequest[] = []
  const fetch = async (request: Request) => {
    const record = await readSent(request)
    sent.push(record)
    return echoResponse(record, template, known)
  }
  return { fetch, sent }
}

/** Every secret of what was sent: credential headers (the Basic credentials alone too) and secret parameters. */
export function secretsSent(sent: readonly SentRequest[]): string[] {
  return sent.flatMap(({ headers, params }) => [
    ...['authorization', 'dpop'].flatMap((name) =>
      headers[name] ? [headers[name], headers[name].split(' ')[1] ?? ''] : [],
    ),
    ...params.filter(([name]) => SECRET_PARAMS.includes(name)).map(([, value]) => value),
  ])
}
