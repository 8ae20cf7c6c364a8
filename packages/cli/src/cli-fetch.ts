import { readFile } from 'node:fs/promises'
import type { FetchLike } from '@tokenwell/core'
import type { CliIo } from './cli-io.js'
import { UsageError } from './usage-error.js'

/** The fetch a command sends its requests with, and the deadline of the whole command. */
export interface CliFetch {
  /** With `--ca` / `--insecure` applied; each request also ends at the deadline. */
  readonly fetch: FetchLike
  /** Aborts when the command's time is up; undefined when it has no limit. */
  readonly deadline: AbortSignal | undefined
  /** Ends the TLS agent's connections (when there is one). */
  close(): Promise<void>
}

/**
 * The fetch of one command run, its deadline starting now: `@tokenwell/node` (and undici) load
 * only when `--ca` (`ca`: the PEMs `readCaFiles` read), `--cert` or `--insecure` need them.
 */
export async function createCliFetch(
  options: {
    ca: readonly string[]
    insecure: boolean
    timeout: number | undefined
    /** `--cert` and its key: every connection presents that client certificate (RFC 8705). */
    clientCertificate?: { cert: string; key: string } | undefined
  },
  io: CliIo,
): Promise<CliFetch> {
  const { ca, clientCertificate } = options
  const tls =
    ca.length > 0 || options.insecure || clientCertificate
      ? (await import('@tokenwell/node')).createNodeFetch({
          ca: [...ca],
          insecure: options.insecure,
          ...clientCertificate,
          onWarning: (message) => void io.stderr.write(`${message}\n`),
        })
      : undefined
  const deadline = options.timeout === undefined ? undefined : AbortSignal.timeout(options.timeout)
  const send: FetchLike = tls ?? ((request) => globalThis.fetch(request))
  // past the deadline, a retry core still has scheduled fails at once instead of keeping us alive
  const fetch: FetchLike = deadline
    ? (request) => send(new Request(request, { signal: AbortSignal.any([request.signal, deadline]) }))
    : send
  return { fetch, deadline, close: async () => tls?.close() }
}

/** Reads the `--ca` files (before anything else: an unreadable one is a `UsageError`, exit 2). */
export async function readCaFiles(paths: readonly string[], command: string): Promise<string[]> {
  const pems: string[] = []
  for (const path of paths) pems.push(await readCertificateFile(path, '--ca', command))
  return pems
}

/** Reads a PEM certificate file given by `flag` (`--ca`, `--cert`); a `UsageError` names what is wrong. */
export async function readCertificateFile(path: string, flag: string, command: string): Promise<string> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'unreadable'
    throw new UsageError(`cannot read ${flag} ${path} (${reason})`, command)
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`${flag} ${path} holds no PEM certificate`, command)
  }
  return pem
}
