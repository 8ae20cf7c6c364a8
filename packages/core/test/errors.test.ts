import { describe, expect, it } from 'vitest'
import {
  AuthorizationError,
  ConfigError,
  DiscoveryError,
  DpopError,
  InsecureHttpError,
  isTokenwellError,
  OAuthError,
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
