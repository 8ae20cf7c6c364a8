import { describe, expect, it } from 'vitest'
import { measurePage, PAGES } from '../bench/src/pages.js'

// Issue 15: a browser page that uses tokenwell, bundled as an app would be (esbuild, browser,
// minified, no code splitting), from the sources. What a page does not import (JWT client auth,
// DPoP, the device grant, discovery, revocation) must not be in it; `pnpm bench` reports the same pages
// from the built packages, next to @badgateway/oauth2-client's.
const ours = PAGES.filter((page) => page.budget !== undefined)

/**
 * Each page's size today, min+gzip bytes, plus a little room: a change that makes a page
 * bigger fails here and has to say why. Lower it when a page shrinks. The browser store pages
 * grew by about 650 bytes for the lease hand-over between tabs (marks read under the lease), which
 * keeps a second tab from fetching, or redeeming a refresh token, before the last holder's token
 * reaches it. Every page grew by about 860 bytes for the scrubber's printed views (a secret's
 * piece completed by an escape or a quote that JSON.stringify or util.inspect adds, rule 5).
 * Every page then shrank by 210 to 260 bytes (one grant table, no guards or spreads for fields
 * the receiver drops anyway, no unused internal methods), and grew by about 100 bytes for the
 * protocol refusing a request whose scope is unknown (ky before it has seen a prefixUrl), and
 * by 20 to 50 bytes when the 363-line scrubber became four modules of under 160 lines (each module
 * a lazy import reaches gets its own init wrapper in a bundle without splitting). The browser
 * store pages grew by 60 bytes for telling which tab holds a lease (a lease that changed hands is
 * progress: no tab takes it from the one that took it a moment before). Every page grew by 45 to
 * 60 bytes for knowing when a token request's answer was lost after the server did the work (a
 * gateway's 5xx page, a 2xx cut short or mangled): its refresh token is never sent again (rule 4);
 * by 30 to 40 bytes for redeeming an authorization code once, as a refresh token is; and by 175
 * to 205 bytes for the in-memory store's lease, wait and kept refresh token, which keep two
 * providers that share it from redeeming one refresh token twice. Every page grew by 100 to 125
 * bytes when the adapters' error scrub became core's scrubber (loaded before the first token
 * goes out), which finds a token an API echoed encoded or cut short, not only as is (rule 5), and
 * by 70 to 105 bytes for scrubbing a token request's errors of the tokens the provider holds too
 * (a refresh's error may echo the access token it replaces), and by 85 to 125 bytes for scrubbing
 * a granted scope the client did not ask for, which a token prints (it may echo a secret), and
 * by 60 to 85 bytes for the adapters remembering the DPoP proofs they sent, which axios, got and
 * ky errors hold in their request options, and by 50 to 65 bytes for scrubbing a store's error of
 * the tokens it was given before it goes into a store-error event, and by 135 to 165 bytes for
 * replacing a client error's fetched response whose headers echoed the token with a scrubbed copy
 * (its headers are immutable, and Node 24's util.inspect prints them), and by 45 to 85 bytes for not
 * renewing a token after a 401 at the end of a redirect chain that left the origin (or, when
 * fetch hides the chain, a 401 whose challenge names no error: no token reached it), and by 85
 * to 110 bytes for believing a JWT's earlier `exp` and starting a slow token endpoint's refresh
 * ahead early enough for short tokens, and by 20 to 30 bytes for resolving a relative URL against the
 * page's base URL (a <base href> may name another origin), and by 5 to 30 bytes for signing a
 * DPoP proof for a relative URL's absolute form and failing a DPoP redirect a browser hides.
 */
const CEILING: Readonly<Record<string, number>> = {
  'page: client_credentials + withOAuth2': 21_870,
  'page: client_credentials + withOAuth2 + createBrowserTokenStore': 24_990,
  'page: authorization code + PKCE + refresh + withOAuth2': 22_770,
  'page: authorization code + PKCE + refresh + withOAuth2 + createBrowserTokenStore': 25_840,
}

describe('browser bundle size (esbuild --bundle --minify --format=esm --platform=browser, no splitting)', () => {
  it.each(ours.map((page) => [page.label, page] as const))(
    '%s bundles none of jose, DPoP, the device poll, discovery or revocation',
    async (_, page) => {
      const size = await measurePage(page, 'src')
      const paths = size.inputs.map((input) => input.path)
      for (const left of [
        /^jose\//,
        /core\/src\/jwt\//,
        /core\/src\/dpop\//,
        /device-poll/,
        /core\/src\/discovery\//,
        /endpoint\/revocation/,
      ])
        expect(
          paths.filter((path) => left.test(path)),
          String(left),
        ).toEqual([])
      expect(size.gzipBytes).toBeLessThanOrEqual(CEILING[page.label]!)
    },
  )
})
