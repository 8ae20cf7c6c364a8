import { ConfigError } from '@tokenwell/core'
import { describe, expect, it, vi } from 'vitest'
import { createNodeFetch, INSECURE_WARNING, startLoopbackRedirect } from '../src/index.js'

// Real TLS and loopback traffic is tested in test/tls.test.ts and test/loopback-redirect.test.ts (no msw there).
describe('createNodeFetch options', () => {
  it('refuses a ca that is not PEM certificates, naming the option', () => {
    expect(() => createNodeFetch({ ca: 'not a cert' })).toThrow(ConfigError)
    expect(() => createNodeFetch({ ca: ['-----BEGIN CERTIFICATE-----\n…', 'x'] })).toThrow(
      /ca must be PEM certificates/,
    )
    expect(() => createNodeFetch({ insecure: 'yes' as never })).toThrow(/insecure must be a boolean/)
    expect(() => createNodeFetch({ connectTimeout: 0 })).toThrow(/connectTimeout/)
  })

  it('warns through process.emitWarning by default in insecure mode, and not otherwise', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      await createNodeFetch().close()
      expect(emit).not.toHaveBeenCalled()
      await createNodeFetch({ insecure: true }).close()
      expect(emit).toHaveBeenCalledWith(INSECURE_WARNING, { code: 'TOKENWELL_INSECURE_TLS' })
    } finally {
      emit.mockRestore()
    }
  })
})

describe('startLoopbackRedirect options', () => {
  it('listens on loopback only and needs an absolute path', async () => {
    await expect(startLoopbackRedirect({ host: '0.0.0.0' as never })).rejects.toThrow(/127.0.0.1 or ::1/)
    await expect(startLoopbackRedirect({ path: 'callback' })).rejects.toThrow(/path must start with/)
  })
})
