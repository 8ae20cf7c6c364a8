/**
 * An option passed to a mock-server factory is invalid; the message names the option.
 * Shaped like `@tokenwell/core`'s `ConfigError` (`code: 'ERR_CONFIG'`), so core's
 * `isTokenwellError()` accepts it without this package depending on core.
 */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG' as const
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}
