import { describe, expect, it } from 'vitest'
import { measurePage, PAGES } from '../bench/src/pages.js'

// Issue 15: a browser page that uses tokenwell, bundled as an app would be (esbuild, browser,
// minified, no code splitting), from the sources. What a page does not import (JWT client auth,
// DPoP, the device grant, discovery, revocation) must not be in it; `pnpm bench` reports the same pages
// from the built packages, next to @badgateway/oauth2-client's.
const ours = PAGES.filter((page) => page.budget !== undefined)

/**
 * Each page's size today, min+gzip bytes, plus about 40 bytes of room: a change that makes a page
 * bigger than that fails here and has to say why (in its commit; `git log -p` on this file holds
 * what each growth bought). Lower a ceiling when a page shrinks. The room is there so that a
 * few bytes of a small fix do not fail CI; it is not a budget to spend.
 */
const CEILING: Readonly<Record<string, number>> = {
  'page: client_credentials + withOAuth2': 24_185,
  'page: client_credentials + withOAuth2 + createBrowserTokenStore': 27_451,
  'page: authorization code + PKCE + refresh + withOAuth2': 25_091,
  'page: authorization code + PKCE + refresh + withOAuth2 + createBrowserTokenStore': 28_365,
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
