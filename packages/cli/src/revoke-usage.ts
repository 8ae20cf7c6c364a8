import { clientAuthHelp } from './client-auth-methods.js'

const clientAuthList = clientAuthHelp({ mtls: false })

/** `tokenwell revoke --help`. */
export const REVOKE_USAGE = `Usage: tokenwell revoke (--issuer URL | --revocation-endpoint URL) --client-id ID (--token-env VAR | --token-file F | --token-stdin) [options]

Revokes one token at the authorization server's revocation endpoint (RFC 7009), with the
client's authentication. The token comes from an environment variable, a file or stdin, never
from the command line; it is never printed. Prints nothing on stdout; one line on stderr.

Server:
  --issuer URL                 discover the revocation endpoint (RFC 8414 / OIDC)
  --revocation-endpoint URL    the revocation endpoint (https:, or http: on loopback)

Client (as for tokenwell token):
  --client-id ID            the client identifier
  --client-auth METHOD      how the client authenticates (default: basic)
${clientAuthList}
  --client-secret-env VAR   the client secret (also -file, -stdin)
  --private-key-file F      private-key-jwt: a PKCS#8 PEM or private JWK (also -env, -stdin)
  --key-id KID, --assertion-alg ALG   JWT client auth: the kid header and the algorithm

Token:
  --token-env VAR           read the token to revoke from environment variable VAR
  --token-file F            read it from file F (one trailing newline is dropped), e.g. the
                            file tokenwell token --refresh-token-out F wrote
  --token-stdin             read it from stdin
  --token-type-hint HINT    access_token (default) or refresh_token; a refresh token's
                            revocation ends its grant (and, at most servers, its access tokens)

Other:
  --timeout DURATION        time limit: 500ms, 10s, 2m (default: 10s)
  --ca FILE                 also trust the CA certificate(s) in PEM file FILE (repeatable)
  --insecure                do not verify the server's certificate (warns; never in production)
  --debug                   print stack traces of errors
  -h, --help                show this help

Examples:
  tokenwell revoke --issuer https://login.example.com --client-id my-cli --client-auth none \\
    --token-file ~/.config/my-cli/refresh-token --token-type-hint refresh_token
  tokenwell token … | tokenwell revoke --revocation-endpoint https://auth.example.com/revoke \\
    --client-id svc-a --client-secret-env CLIENT_SECRET --token-stdin

Exit status: 0 revoked (the server also says so for a token it does not know, RFC 7009 §2.2),
1 failure (OAuth error, the server does not revoke that type of token, network, timeout),
2 bad usage.`
