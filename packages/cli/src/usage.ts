import { clientAuthHelp } from './client-auth-methods.js'
import { REVOKE_USAGE } from './revoke-usage.js'

const clientAuthList = clientAuthHelp({ mtls: true })
/** `login` takes no `--cert`. */
const loginClientAuthList = clientAuthHelp({ mtls: false })

/** The TLS and output options that `token` and `login` share. */
const TLS_AND_OUTPUT = `TLS:
  --ca FILE                 also trust the CA certificate(s) in PEM file FILE (repeatable)
  --insecure                do not verify the server's certificate (warns; never in production)

Output:
  -o, --output token|json|header
                            token: the access token alone (default)
                            json: {"accessToken","tokenType","expiresAt","expiresIn","scope"}
                            header: Authorization: Bearer <token>`

/** `tokenwell --help`. */
export const MAIN_USAGE = `Usage: tokenwell <command> [options]

Commands:
  token    get an OAuth 2.0 access token and print it
  login    sign a user in (browser on this machine, or --device) and print the token
  demo     run the adapters against an embedded authorization server and report
  revoke   revoke an access or refresh token (RFC 7009)

Options:
  -h, --help       show help (also: tokenwell <command> --help)
  -v, --version    print the version

Exit status: 0 ok, 1 failure, 2 bad usage.`

/** `tokenwell token --help`. */
export const TOKEN_USAGE = `Usage: tokenwell token --token-endpoint URL --client-id ID [options]

Gets one access token from the token endpoint and prints it on stdout.
Diagnostics go to stderr; nothing secret is ever printed except the token you asked for.

Client:
  --token-endpoint URL      the token endpoint (https:, or http: on loopback)
  --issuer URL              instead of --token-endpoint: discover it (RFC 8414 / OIDC)
  --client-id ID            the client identifier
  --client-auth METHOD      how the client authenticates (default: basic)
${clientAuthList}
  --client-secret-env VAR   read the client secret from environment variable VAR
  --client-secret-file F    read it from file F (one trailing newline is dropped)
  --client-secret-stdin     read it from stdin
  --client-secret S         works, but warns: argv shows in shell history and ps
  --private-key-file F      private-key-jwt: a PKCS#8 PEM or private JWK (also -env, -stdin)
  --key-id KID              JWT client auth: the kid header
  --assertion-alg ALG       JWT client auth: RS256, PS256, ES256, EdDSA, HS256, … (default: from the key)
  --cert FILE               mutual TLS: present the client certificate in PEM file FILE (tls,
                            self-signed-tls; with any other method, for certificate-bound tokens)
  --key-file F              the private key of --cert, PEM (also --key-env, --key-stdin)

Grant (default: client_credentials):
  --grant client_credentials
  --grant password          --username U, and --password-env/-file/-stdin
  --grant refresh_token     --refresh-token-env/-file/-stdin
  --grant authorization_code  --code(-env/-file/-stdin) C --redirect-uri URI [--code-verifier …]
  --grant jwt-bearer        --assertion-env/-file/-stdin
  --grant token-exchange    --subject-token-env/-file/-stdin [--subject-token-type T]
                            [--actor-token-env/-file/-stdin --actor-token-type T]
                            [--requested-token-type T]
  Only one secret may come from stdin.

Request:
  --scope "a b"             scopes, space-delimited (repeatable)
  --audience A              the audience parameter
  --resource URI            a resource indicator, RFC 8707 (repeatable)
  --param NAME=VALUE        another form parameter (repeatable)
  --timeout DURATION        time limit of the whole command, retries included: 500ms, 10s, 2m (default: 10s)

${TLS_AND_OUTPUT}
  --refresh-token-out FILE  write the refresh token the server issues to FILE (mode 0600,
                            replaced atomically): with --grant refresh_token --refresh-token-file
                            FILE, a script keeps a rotating refresh token
  --debug                   print stack traces of errors
  -h, --help                show this help

Examples:
  tokenwell token --token-endpoint https://auth.example.com/oauth2/token \\
    --client-id svc-a --client-secret-env CLIENT_SECRET --scope "orders:read"
  curl -H "$(tokenwell token … --output header)" https://api.example.com/orders

Exit status: 0 ok, 1 failure (OAuth error, network, timeout), 2 bad usage.`

/** `tokenwell login --help`. */
export const LOGIN_USAGE = `Usage: tokenwell login (--issuer URL | --authorization-endpoint URL --token-endpoint URL) --client-id ID [options]
       tokenwell login --device (--issuer URL | --device-authorization-endpoint URL --token-endpoint URL) --client-id ID [options]

Signs a user in and prints the access token on stdout, as tokenwell token does.
Instructions for the user go to stderr; nothing secret is printed but the token you asked for.

  without --device   authorization code + PKCE: open the printed URL, sign in, and the browser
                     comes back to a listener on 127.0.0.1 (RFC 8252 loopback redirect)
  --device           device authorization grant (RFC 8628): open the printed page on any
                     device and enter the printed code; tokenwell polls until you approve

Server:
  --issuer URL                      discover the endpoints (RFC 8414 / OIDC)
  --authorization-endpoint URL      instead of --issuer (with --token-endpoint)
  --device-authorization-endpoint URL  with --device, instead of --issuer (with --token-endpoint)
  --token-endpoint URL              the token endpoint (https:, or http: on loopback)

Client:
  --client-id ID            the client identifier
  --client-auth METHOD      how the client authenticates (default: none, a public client)
${loginClientAuthList}
  --client-secret-env VAR   the client secret, for a confidential client (also -file, -stdin)
  --private-key-file F      private-key-jwt: a PKCS#8 PEM or private JWK (also -env, -stdin)
  --key-id KID, --assertion-alg ALG   JWT client auth: the kid header and the algorithm

Request:
  --scope "a b"             scopes, space-delimited (repeatable); offline_access asks many
                            servers for a refresh token
  --port N                  the loopback port of the redirect URI (default: any free port;
                            give one if the client's redirect URI is registered with a port)
  --open                    also open the URL in the default browser (open, xdg-open, rundll32)
  --timeout DURATION        time limit of the whole login: 30s, 5m (default: 5m; with --device,
                            until the device code expires)

${TLS_AND_OUTPUT}
  --refresh-token-out FILE  also write the refresh token to FILE (mode 0600, replaced
                            atomically), for a script to use with tokenwell token
                            --grant refresh_token --refresh-token-file FILE --refresh-token-out FILE
  --debug                   print stack traces of errors
  -h, --help                show this help

Examples:
  tokenwell login --issuer https://login.example.com --client-id my-cli --scope "openid offline_access" --open
  tokenwell login --device --issuer https://login.example.com --client-id my-cli -o json

Exit status: 0 ok, 1 failure (denied, expired, OAuth error, network, timeout), 2 bad usage.`

/** `tokenwell demo --help`. */
export const DEMO_USAGE = `Usage: tokenwell demo [options]

Starts an OAuth 2.0 authorization server and a protected API on 127.0.0.1, runs the axios,
got and fetch adapters against them and prints what happened, counted at the servers:
  cold cache     a burst of concurrent calls on a cold cache: one token request
  token expired  the clock jumps past the token's lifetime: one new token, no 401
  401 storm      every token is revoked: each 401 is replayed once after one token request

Options:
  --calls N        concurrent calls per scenario (default: 200)
  --debug          print stack traces of errors
  -h, --help       show this help

Exit status: 0 when every check holds, 1 when one fails (the report says which), 2 bad usage.`

/** The help text of `command`, or the top-level one. */
export function usageOf(command: string | undefined): string {
  if (command === 'token') return TOKEN_USAGE
  if (command === 'login') return LOGIN_USAGE
  if (command === 'demo') return DEMO_USAGE
  if (command === 'revoke') return REVOKE_USAGE
  return MAIN_USAGE
}
