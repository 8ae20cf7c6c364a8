/**
 * A fetch that follows redirects as node-fetch 3 does: it keeps `authorization` for the same host
 * name (any port) or a subdomain of it, on the same scheme. `redirect: 'manual'` is honoured.
 */
export function followLikeNodeFetch(send: (request: Request) => Promise<Response>) {
  return async function follow(input: Request, init?: RequestInit): Promise<Response> {
    let request = new Request(input, init)
    for (let hops = 0; ; hops++) {
      const response = await send(new Request(request, { redirect: 'manual' }))
      const location = response.headers.get('location')
      if (
        request.redirect !== 'follow' ||
        !location ||
        response.status < 300 ||
        response.status > 399 ||
        hops > 20
      )
        return response
      const from = new URL(request.url)
      const to = new URL(location, from)
      const headers = new Headers(request.headers)
      const kept = to.hostname === from.hostname || to.hostname.endsWith(`.${from.hostname}`)
      if (!kept || to.protocol !== from.protocol) headers.delete('authorization')
      request = new Request(to, { method: request.method, headers, redirect: 'follow' })
    }
  }
}
