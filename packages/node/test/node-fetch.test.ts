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

describe('createNodeFetch client certificate options (mTLS)', () => {
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  const key = '-----BEGIN PRIVATE KEY-----\nsecret-key-material-0192\n-----END PRIVATE KEY-----\n'

  it('needs cert and key together, as PEM, and never quotes the key', () => {
    const errors: unknown[] = []
    for (const options of [
      { cert },
      { key },
      { cert: 'nope', key },
      { cert, key: 'secret-key-material-0192' },
      { passphrase: 'p' },
    ]) {
      try {
        createNodeFetch(options)
      } catch (error) {
        errors.push(error)
      }
    }
    expect(errors).toHaveLength(5)
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConfigError)
      expect(String((error as Error).message)).not.toContain('secret-key-material')
    }
    expect(String((errors[0] as Error).message)).toMatch(/cert and key go together/)
  })

  it('accepts a PEM cert and key (also as bytes), and an EC or RSA key header', async () => {
    await createNodeFetch({ cert, key }).close()
    await createNodeFetch({
      cert: new TextEncoder().encode(cert),
      key: key.replaceAll('PRIVATE', 'EC PRIVATE'),
    }).close()
  })
})

describe('startLoopbackRedirect options', () => {
  it('listens on loopback only and needs an absolute path', async () => {
    await expect(startLoopbackRedirect({ host: '0.0.0.0' as never })).rejects.toThrow(/127.0.0.1 or ::1/)
    await expect(startLoopbackRedirect({ path: 'callback' })).rejects.toThrow(/path must start with/)
  })
})
