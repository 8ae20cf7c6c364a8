import type { Server } from 'node:http'
import { type ServeOptions, serveFetchHandler } from './node-server.js'
import { createProtectedApi, type ProtectedApi, type ProtectedApiOptions } from './protected-api.js'

export interface StartProtectedApiOptions extends ProtectedApiOptions, ServeOptions {}

/** A protected API listening on loopback. */
export interface RunningProtectedApi extends ProtectedApi {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  /** The underlying `node:http` server. */
  readonly server: Server
  close(): Promise<void>
}

/**
 * Starts the protected API (see `createProtectedApi` for its routes) on `127.0.0.1`, port 0 by default.
 * @example
 * const auth = await startMockAuthServer()
 * const api = await startProtectedApi({ authServer: auth })
 * const res = await fetch(`${api.url}/echo`, { headers: { authorization: `Bearer ${token}` } })
 */
export async function startProtectedApi(options: StartProtectedApiOptions): Promise<RunningProtectedApi> {
  const { port, host, ...rest } = options
  const api = createProtectedApi(rest)
  const served = await serveFetchHandler(api.handle, {
    ...(port !== undefined && { port }),
    ...(host !== undefined && { host }),
  })
  return Object.assign(api, {
    url: served.url,
    port: served.port,
    server: served.server,
    close: served.close,
  })
}
