// The servers' side of the bench, run in its own process (see remote-servers.ts) so that the
// clients being measured have a core of their own.
import { type BenchControl, type BenchServerOptions, startBenchServers } from './servers.js'

interface Call {
  id: number
  method: keyof BenchControl | 'close'
  args: unknown[]
}

const options = JSON.parse(process.env['BENCH_SERVER_OPTIONS'] ?? '{}') as BenchServerOptions
const servers = await startBenchServers(options)
process.on('message', async ({ id, method, args }: Call) => {
  if (method === 'close') {
    await servers.close()
    process.send?.({ id, result: null }, () => process.exit(0))
    return
  }
  try {
    const result = await (servers.control[method] as (...a: unknown[]) => Promise<unknown>)(...args)
    process.send?.({ id, result: result ?? null })
  } catch (error) {
    process.send?.({ id, error: String(error) })
  }
})
process.send?.({
  ready: { tokenEndpoint: servers.tokenEndpoint, issuer: servers.issuer, apiUrl: servers.apiUrl },
})
