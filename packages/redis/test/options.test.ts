import { inspect } from 'node:util'
import { ConfigError } from '@tokenwell/core'
import { createRedisTokenStore, RedisStoreError } from '@tokenwell/redis'
import { describe, expect, it } from 'vitest'
import { entryFor } from './support.js'

const client = { sendCommand: async () => null }

function configError(options: unknown): Error {
  try {
    createRedisTokenStore(options as never)
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a ConfigError')
}

describe('createRedisTokenStore options', () => {
  it.each([
    ['no options', undefined, /options must be an object/],
    ['no client', {}, /client must be a connected node-redis or ioredis client/],
    ['a client without commands', { client: { get: () => {} } }, /client must be/],
    ['an unknown option', { client, lockTTL: 5_000 }, /unknown option "lockTTL"/],
    ['a prefix with a brace', { client, prefix: 'app:{x}' }, /prefix must be a string without \{ or \}/],
    [
      'a zero commandTimeout',
      { client, commandTimeout: 0 },
      /commandTimeout must be a number of milliseconds ≥ 1/,
    ],
    ['a negative outageBackoff', { client, outageBackoff: -1 }, /outageBackoff must be/],
    ['a non-finite lockTtl', { client, lockTtl: Number.POSITIVE_INFINITY }, /lockTtl must be/],
    ['a zero pollInterval', { client, pollInterval: 0 }, /pollInterval must be/],
    ['a string refreshTokenTtl', { client, refreshTokenTtl: '30d' }, /refreshTokenTtl must be/],
    ['a short encryptionKey', { client, encryptionKey: 'hunter2-secret' }, /encryptionKey must be 32 bytes/],
  ])('throws ConfigError (ERR_CONFIG) for %s', (_, options, message) => {
    const error = configError(options)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_CONFIG' })
    expect(error.message).toMatch(message)
    expect(error.message).not.toContain('hunter2-secret')
  })

  it('accepts a node-redis-like client, an ioredis-like client and a node-redis cluster', () => {
    expect(() => createRedisTokenStore({ client })).not.toThrow()
    expect(() => createRedisTokenStore({ client: { call: async () => null } })).not.toThrow()
    const cluster = { sendCommand: async () => null, getSlotMaster: () => ({}) }
    expect(() => createRedisTokenStore({ client: cluster })).not.toThrow()
  })

  it('sends the key of a cluster command first, so node-redis routes it to the right slot', async () => {
    const calls: unknown[][] = []
    const cluster = {
      sendCommand: async (...args: unknown[]) => {
        calls.push(args)
        return null
      },
      getSlotMaster: () => ({}),
    }
    await createRedisTokenStore({ client: cluster, prefix: 'app:' }).get('tokenwell:abc')
    expect(calls[0]?.slice(0, 3)).toEqual([
      'app:{tokenwell:abc}:token',
      false,
      ['GET', 'app:{tokenwell:abc}:token'],
    ])
  })
})

describe('errors carry no secret', () => {
  it('drops what a client attaches to its errors (ioredis puts the failed command and its arguments there)', async () => {
    const entry = entryFor('access-secret-in-args', { refreshToken: 'refresh-secret-in-args' })
    const client = {
      call: async (...args: string[]) => {
        const error = Object.assign(new Error('ERR something went wrong'), {
          command: { name: args[0], args },
        })
        throw error
      },
    }
    const store = createRedisTokenStore({ client })
    const error = await store.set('tokenwell:abc', entry, 60_000).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RedisStoreError)
    expect(error).toMatchObject({ code: 'ERR_STORE', message: 'Redis set failed' })
    const text = `${inspect(error, { depth: 10, showHidden: true })} ${JSON.stringify(error)} ${String((error as Error).cause)}`
    expect(text).toContain('ERR something went wrong')
    expect(text).not.toContain('secret-in-args')
  })

  it('skips Redis for outageBackoff ms after a failure, then tries it again', async () => {
    let calls = 0
    let fail = true
    const client = {
      sendCommand: async () => {
        calls++
        if (fail) throw new Error('connection refused')
        return null
      },
    }
    const store = createRedisTokenStore({ client, outageBackoff: 100 })
    await expect(store.get('tokenwell:a')).rejects.toMatchObject({ message: 'Redis GET failed' })
    await expect(store.get('tokenwell:a')).rejects.toMatchObject({
      message: expect.stringMatching(/skipped/),
    })
    expect(calls).toBe(1)
    fail = false
    await new Promise((resolve) => setTimeout(resolve, 120))
    await expect(store.get('tokenwell:a')).resolves.toBeUndefined()
    expect(calls).toBe(2)
  })
})
