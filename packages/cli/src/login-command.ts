import {
  AuthorizationError,
  buildAuthorizationUrl,
  type ClientAssertionOptions,
  ConfigError,
  createPkcePair,
  createTokenProvider,
  type Grant,
  isTokenwellError,
  parseAuthorizationResponse,
  randomUrlSafe,
  type Token,
  type TokenProviderOptions,
} from '@tokenwell/core'
import { deviceCodeGrant, startDeviceAuthorization } from '@tokenwell/core/device'
import { discovery } from '@tokenwell/core/discovery'
import { startLoopbackRedirect } from '@tokenwell/node'
import { type CliFetch, createCliFetch, readCaFiles } from './cli-fetch.js'
import type { CliIo } from './cli-io.js'
import { formatDuration } from './duration.js'
import { type LoginArgs, parseLoginArgs } from './login-args.js'
import { openBrowser } from './open-browser.js'
import { checkWritable, writeSecretFile } from './secret-file.js'
import { readSecret } from './secrets.js'
import { asUsageError, formatToken } from './token-command.js'
import { UsageError } from './usage-error.js'

/**
 * `tokenwell login`: signs a user in and prints the access token as `tokenwell token` does.
 * Without `--device`, authorization code + PKCE through a loopback redirect (RFC 8252 §7.3):
 * the URL to open goes to stderr (and to the browser with `--open`). With `--device`, the
 * device authorization grant (RFC 8628): the verification URI and user code go to stderr, then
 * it polls until the user approves. Every secret it handles (client secret, code, code verifier,
 * device code, tokens) is pushed to `secrets`, which `main()` masks on stderr.
 */
export async function runLoginCommand(
  argv: readonly string[],
  io: CliIo,
  secrets: string[],
): Promise<number> {
  const args = parseLoginArgs(argv)
  const ca = await readCaFiles(args.caFiles, 'login')
  if (args.refreshTokenOut !== undefined) await checkWritable(args.refreshTokenOut, 'login')
  // the command line is sound: only now read the client's secret (a usage error never consumes stdin)
  let clientSecret: string | undefined
  for (const name of args.secrets) {
    clientSecret = await readSecret(name, args.values, io, 'login')
    if (clientSecret !== undefined) secrets.push(clientSecret)
  }
  const net = await createCliFetch({ ca, insecure: args.insecure, timeout: args.timeout }, io)
  try {
    let token: Token
    try {
      const client = clientOptions(args, clientSecret, net)
      token = args.device
        ? await deviceLogin(args, client, net, io, secrets)
        : await browserLogin(args, client, net, io, secrets)
    } catch (error) {
      if (error instanceof ConfigError) throw asUsageError(error, 'login')
      if (net.deadline?.aborted && !isTokenwellError(error)) {
        const what = args.device ? 'the device authorization was not approved' : 'no sign-in completed'
        throw new AuthorizationError(`${what} within ${formatDuration(args.timeout ?? 0)} (--timeout)`)
      }
      throw error
    }
    secrets.push(token.accessToken, ...[token.refreshToken, token.idToken].filter((s) => s !== undefined))
    if (args.refreshTokenOut !== undefined) {
      if (token.refreshToken === undefined) {
        io.stderr.write(
          `tokenwell: warning: the server issued no refresh token; ${args.refreshTokenOut} was not written\n`,
        )
      } else {
        await writeSecretFile(args.refreshTokenOut, `${token.refreshToken}\n`)
      }
    }
    io.stdout.write(`${formatToken(token, args.output, Date.now())}\n`)
    return 0
  } finally {
    await net.close()
  }
}

type ClientOptions = Pick<TokenProviderOptions, 'clientId' | 'clientAuth' | 'clientSecret' | 'fetch'>

function clientOptions(args: LoginArgs, secret: string | undefined, net: CliFetch): ClientOptions {
  return {
    clientId: args.clientId,
    ...args.clientAuth.credentials(secret, args.clientAssertion as ClientAssertionOptions),
    fetch: net.fetch,
  }
}

/** Exchanges the grant once, as a provider does (refreshAhead off: one token, then exit). */
async function exchange(args: LoginArgs, client: ClientOptions, grant: Grant, net: CliFetch): Promise<Token> {
  const provider = createTokenProvider({
    ...(args.issuer !== undefined
      ? { issuer: args.issuer, discovery }
      : { tokenEndpoint: args.tokenEndpoint }),
    ...client,
    grant,
    refreshAhead: false,
  })
  try {
    return await provider.getToken(net.deadline ? { signal: net.deadline } : {})
  } finally {
    await provider.close()
  }
}

/** Authorization code + PKCE, the browser coming back to a loopback listener. @see RFC 8252 §7.3, RFC 7636 */
async function browserLogin(
  args: LoginArgs,
  client: ClientOptions,
  net: CliFetch,
  io: CliIo,
  secrets: string[],
): Promise<Token> {
  const redirect = await listen(args)
  try {
    const { codeVerifier, codeChallenge } = await createPkcePair()
    secrets.push(codeVerifier)
    const state = randomUrlSafe()
    const url = await buildAuthorizationUrl({
      ...(args.issuer !== undefined
        ? { issuer: args.issuer, discovery }
        : { authorizationEndpoint: args.authorizationEndpoint as string }),
      clientId: args.clientId,
      redirectUri: redirect.redirectUri,
      ...(args.scope !== undefined && { scope: args.scope }),
      state,
      codeChallenge,
      fetch: net.fetch,
    })
    io.stderr.write(
      `tokenwell: open this URL in a browser to sign in:\n\n  ${url.href}\n\n` +
        `Waiting for the browser to come back to ${redirect.redirectUri} …\n`,
    )
    if (args.open) openBrowser(url.href, io.stderr)
    const callback = await redirect.waitForCallback(net.deadline ? { signal: net.deadline } : {})
    const { code } = parseAuthorizationResponse(callback, {
      state,
      ...(args.issuer !== undefined && { issuer: args.issuer }),
    })
    secrets.push(code)
    return await exchange(
      args,
      client,
      { type: 'authorization_code', code, redirectUri: redirect.redirectUri, codeVerifier },
      net,
    )
  } finally {
    await redirect.close()
  }
}

async function listen(args: LoginArgs) {
  try {
    return await startLoopbackRedirect({
      port: args.port,
      ...(args.timeout !== undefined && { timeout: args.timeout }),
    })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new UsageError(`cannot listen on 127.0.0.1 port ${args.port} (--port): ${code}`, 'login')
    }
    throw error
  }
}

/** The device authorization grant: the user approves on any device. @see RFC 8628 */
async function deviceLogin(
  args: LoginArgs,
  client: ClientOptions,
  net: CliFetch,
  io: CliIo,
  secrets: string[],
): Promise<Token> {
  const authorization = await startDeviceAuthorization({
    ...(args.issuer !== undefined
      ? { issuer: args.issuer }
      : { deviceAuthorizationEndpoint: args.deviceAuthorizationEndpoint }),
    ...client,
    ...(args.scope !== undefined && { scope: args.scope }),
    signal: net.deadline,
  })
  secrets.push(authorization.deviceCode)
  const { verificationUri, verificationUriComplete, userCode, expiresAt } = authorization
  io.stderr.write(
    `tokenwell: to sign in, open this page in a browser on any device:\n\n  ${verificationUri}\n\n` +
      `and enter the code:\n\n  ${userCode}\n\n` +
      (verificationUriComplete === undefined
        ? ''
        : `(or open ${verificationUriComplete}, which has the code filled in)\n`) +
      `Waiting for approval; the code expires in ${formatDuration(Math.max(0, Math.round((expiresAt - Date.now()) / 1000) * 1000))} …\n`,
  )
  if (args.open) openBrowser(verificationUriComplete ?? verificationUri, io.stderr)
  return exchange(args, client, deviceCodeGrant(authorization), net)
}
