import type { MockAuthServer } from '../src/index.js'

/** RFC 6749 §2.3.1 Basic credentials, built independently of the code under test. */
export function basic(clientId: string, clientSecret: string): string {
  const enc = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`
}

/** POSTs a token request straight to `handle` and returns status, headers and JSON body. */
export async function postToken(
  auth: MockAuthServer,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  endpoint = auth.tokenEndpoint,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await auth.handle(
    new Request(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    }),
  )
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} }
}

export const demoBasic = { authorization: basic('demo-client', 'demo-secret') }
