import { describe, expect, it } from 'vitest'
import {
  AuthorizationError,
  ConfigError,
  DiscoveryError,
  DpopError,
  InsecureHttpError,
  isTokenwellError,
  OAuthError,
  StepUpError,
  TokenRequestError,
  TokenResponseError,
  type TokenwellError,
} from '../src/index.js'

const classes = {
  AuthorizationError,
  ConfigError,
  DiscoveryError,
  DpopError,
  InsecureHttpError,
  OAuthError,
  TokenRequestError,
  TokenResponseError,
} as Record<string, new (...args: unknown[]) => TokenwellError>

describe('error names', () => {
  it.each(Object.keys(classes))('a %s keeps its name when a minifier renames the class', (name) => {
    const Class = classes[name]!
    const original = Object.getOwnPropertyDescriptor(Class, 'name')!
    // what a minified bundle does to `class ConfigError` (esbuild: `class a`)
    Object.defineProperty(Class, 'name', { value: 'a' })
    try {
      const error = new Class('message', 400)
      expect(error.name).toBe(name)
      // a copy of core in another bundle recognises it by name and code
      const copy = Object.assign(new Error(error.message), { name: error.name, code: error.code })
      expect(isTokenwellError(copy)).toBe(true)
    } finally {
      Object.defineProperty(Class, 'name', original)
    }
  })
})

describe('error fields', () => {
  const response = new Response(null, { status: 400 })
  it.each<[string, () => TokenwellError, Record<string, unknown>]>([
    ['OAuthError', () => new OAuthError('invalid_grant', 400), { error: 'invalid_grant', status: 400 }],
    [
      'OAuthError with details',
      () => new OAuthError('invalid_grant', 400, { errorDescription: 'd', errorUri: 'u', response }),
      { error: 'invalid_grant', status: 400, errorDescription: 'd', errorUri: 'u' },
    ],
    ['TokenResponseError', () => new TokenResponseError('m'), { status: undefined, cause: undefined }],
    ['TokenResponseError with a status', () => new TokenResponseError('m', { status: 502 }), { status: 502 }],
    ['DiscoveryError with a status', () => new DiscoveryError('m', { status: 404 }), { status: 404 }],
    ['AuthorizationError', () => new AuthorizationError('m'), { error: undefined }],
    [
      'AuthorizationError with details',
      () => new AuthorizationError('m', { error: 'access_denied', errorDescription: 'no' }),
      { error: 'access_denied', errorDescription: 'no' },
    ],
    ['StepUpError', () => new StepUpError(401), { status: 401, acrValues: undefined, maxAge: undefined }],
    [
      'StepUpError with details',
      () => new StepUpError(403, { acrValues: 'urn:mfa', maxAge: 60 }),
      { status: 403, acrValues: 'urn:mfa', maxAge: 60 },
    ],
  ])('%s has its fields as own properties, undefined when not given', (_, make, fields) => {
    const error = make()
    for (const [key, value] of Object.entries(fields)) {
      expect(Object.hasOwn(error, key), key).toBe(true)
      expect((error as unknown as Record<string, unknown>)[key], key).toBe(value)
    }
    // the response is attached but never enumerable
    expect(Object.keys(error)).not.toContain('response')
  })
})
