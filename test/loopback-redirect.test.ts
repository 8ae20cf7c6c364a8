import { AuthorizationError, parseAuthorizationResponse } from '@tokenwell/core'
import { startLoopbackRedirect } from '@tokenwell/node'
import { describe, expect, it } from 'vitest'

describe('startLoopbackRedirect (RFC 8252 §7.3)', () => {
  it('hands over the first callback to its path, answers the browser, then stops listening', async () => {
    const redirect = await startLoopbackRedirect()
    expect(redirect.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const waiting = redirect.waitForCallback()
    const stray = await fetch(new URL('/favicon.ico', redirect.redirectUri))
    expect(stray.status).toBe(404)
    const browser = await fetch(`${redirect.redirectUri}?code=c-1&state=s-1`)
    expect(browser.status).toBe(200)
    expect(await browser.text()).toMatch(/You can close this window/)
    const url = await waiting
    expect(parseAuthorizationResponse(url, { state: 's-1' }).code).toBe('c-1')
    await redirect.close()
    await expect(fetch(`${redirect.redirectUri}?code=c-2&state=s-1`)).rejects.toThrow()
  })

  it('tells the browser when the server sent an error, and returns the URL for parseAuthorizationResponse to reject', async () => {
    const redirect = await startLoopbackRedirect({ path: '/cb' })
    const waiting = redirect.waitForCallback()
    const browser = await fetch(`${redirect.redirectUri}?error=access_denied&state=s`)
    expect(await browser.text()).toMatch(/Sign-in failed/)
    const url = await waiting
    expect(() => parseAuthorizationResponse(url, { state: 's' })).toThrow(AuthorizationError)
  })

  it('gives up after timeout with AuthorizationError, and on abort with the signal’s reason', async () => {
    const slow = await startLoopbackRedirect({ timeout: 50 })
    await expect(slow.waitForCallback()).rejects.toThrow(/no authorization response arrived within 50 ms/)
    const aborted = await startLoopbackRedirect()
    const controller = new AbortController()
    const waiting = aborted.waitForCallback({ signal: controller.signal })
    controller.abort(new Error('user pressed Ctrl-C'))
    await expect(waiting).rejects.toThrow('user pressed Ctrl-C')
    await expect(fetch(aborted.redirectUri)).rejects.toThrow()
  })
})
