import {
  authorizationHeader,
  type ClientAssertionOptions,
  ConfigError,
  createTokenProvider,
  type FetchLike,
  type Token,
  type TokenProvider,
  TokenRequestError,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { createCliFetch, readCaFiles, readCertificateFile } from './cli-fetch.js'
import type { CliIo } from './cli-io.js'
import { formatDuration } from './duration.js'
import type { GrantInputs } from './grant-options.js'
import { checkWritable, writeSecretFile } from './secret-file.js'
import { readSecret } from './secrets.js'
import { type Output, parseTokenArgs, type TokenArgs } from './token-args.js'
import { UsageError } from './usage-error.js'

/** Core option names as the user typed them, for `ConfigError` messages. */
const FLAG_OF: Readonly<Record<string, string>> = {
  tokenEndpoint: '--token-endpoint',
  issuer: '--issuer',
  authorizationEndpoint: '--authorization-endpoint',
  deviceAuthorizationEndpoint: '--device-authorization-endpoint',
  clientId: '--client-id',
  privateKey: 'the private key',
  algorithm: '--assertion-alg',
  keyId: '--key-id',
  scope: '--scope',
  audience: '--audience',
  resource: '--resource',
  extraParams: '--param',
  'grant.username': '--username',
  'grant.redirectUri': '--redirect-uri',
}

/**
 * `tokenwell token`: checks the command line, reads the secrets from their sources, gets one
 * token with core and prints it as `--output` says. Every secret read (and the token) is
 * pushed to `secrets`, which `main()` masks on stderr. Resolves to the exit code; throws
 * `UsageError` (exit 2, also for core's `ConfigError`) or core's runtime errors (exit 1).
 */
export async function runTokenCommand(
  argv: readonly string[],
  io: CliIo,
  secrets: string[],
): Promise<number> {
  const args = parseTokenArgs(argv)
  const ca = await readCaFiles(args.caFiles, 'token')
  const cert =
    args.certFile === undefined ? undefined : await readCertificateFile(args.certFile, '--cert', 'token')
  if (args.refreshTokenOut !== undefined) await checkWritable(args.refreshTokenOut, 'token')
  // the command line is sound: only now read the secrets (a usage error never consumes stdin)
  const inputs: Record<string, string | undefined> = { ...args.plain }
  for (const name of args.secrets) {
    const secret = await readSecret(name, args.values, io, 'token')
    if (secret !== undefined) secrets.push(secret)
    inputs[name] = secret
  }
  const tlsKey = inputs['tlsKey']
  const clientCertificate = cert !== undefined && tlsKey !== undefined ? { cert, key: tlsKey } : undefined
  const net = await createCliFetch(
    { ca, insecure: args.insecure, timeout: args.timeout, clientCertificate },
    io,
  )
  const deadline = net.deadline as AbortSignal
  try {
    const provider = createProvider(args, inputs, net.fetch)
    let token: Token
    try {
      token = await provider.getToken({ signal: deadline })
    } catch (error) {
      // some options (a private key) are checked only when first used
      if (error instanceof ConfigError) throw asUsageError(error, 'token')
      if (deadline.aborted && !(error instanceof TokenRequestError)) {
        throw new TokenRequestError(`no token within ${formatDuration(args.timeout)} (--timeout)`, {
          cause: error,
        })
      }
      throw error
    } finally {
      await provider.close()
    }
    secrets.push(token.accessToken, ...[token.refreshToken, token.idToken].filter((s) => s !== undefined))
    const given = inputs['refreshToken']
    if (args.refreshTokenOut !== undefined) {
      // the newest refresh token, rotated or not: a script passes the file back next time
      if (token.refreshToken !== undefined)
        await writeSecretFile(args.refreshTokenOut, `${token.refreshToken}\n`)
      else
        io.stderr.write(
          `tokenwell: warning: the server issued no refresh token; ${args.refreshTokenOut} was not written\n`,
        )
    } else if (
      args.grant.type === 'refresh_token' &&
      token.refreshToken !== undefined &&
      token.refreshToken !== given
    ) {
      // RFC 6749 §6: with rotation the old refresh token may be spent, and the new one is not printed
      io.stderr.write(
        'tokenwell: warning: the server issued a new refresh token (not printed); the one you gave may now be spent (--refresh-token-out FILE keeps the new one)\n',
      )
    }
    io.stdout.write(`${formatToken(token, args.output, Date.now())}\n`)
    return 0
  } finally {
    await net.close()
  }
}

/** The token as `--output` asks: the bare token, JSON of its non-secret fields plus the token, or a header. */
export function formatToken(token: Token, output: Output, now: number): string {
  if (output === 'header') return `Authorization: ${authorizationHeader(token)}`
  if (output === 'token') return token.accessToken
  return JSON.stringify(
    {
      // the one secret printed, on purpose: it is what the user asked for
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      ...(token.expiresAt !== undefined && {
        expiresAt: token.expiresAt,
        expiresIn: Math.max(0, Math.floor((token.expiresAt - now) / 1000)),
      }),
      ...(token.scope !== undefined && { scope: token.scope }),
    },
    null,
    2,
  )
}

/** The provider for `args`; core's `ConfigError` becomes a `UsageError`. */
function createProvider(args: TokenArgs, inputs: GrantInputs, fetch: FetchLike): TokenProvider {
  try {
    return createTokenProvider({
      ...(args.tokenEndpoint !== undefined && { tokenEndpoint: args.tokenEndpoint }),
      ...(args.issuer !== undefined && { issuer: args.issuer, discovery }),
      clientId: args.clientId,
      ...args.clientAuth.credentials(
        args.clientAuth.secret && inputs[args.clientAuth.secret],
        args.clientAssertion as ClientAssertionOptions,
      ),
      grant: args.grant.build(inputs),
      scope: args.scope,
      audience: args.audience,
      resource: args.resource,
      extraParams: args.extraParams,
      timeout: args.timeout,
      refreshAhead: false, // one token, then exit
      fetch,
    })
  } catch (error) {
    throw error instanceof ConfigError ? asUsageError(error, 'token') : error
  }
}

/** A `ConfigError` from core is a bad command line: said with the flag's name, exit 2. */
export function asUsageError(error: ConfigError, command: string): UsageError {
  return new UsageError(
    error.message.replace(/^[\w.]+/, (name) => FLAG_OF[name] ?? name),
    command,
  )
}
