/** Node's `util.inspect` hook, used without importing `node:util` so core stays runtime-neutral. */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never

/** What a secret looks like in logs: its length only, so two tokens can be told apart by nobody. */
export const REDACTED = '[redacted]'

/** Keeps a server- or user-chosen string safe and short for a message: printable ASCII, `max` characters. */
export function printable(value: string, max = 100): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, max)
}

/** `value` without its `undefined` properties. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/**
 * A JSON parse error that does not quote the body: V8 says `Unexpected token 'h', "hello
 * secret" is not valid JSON`, and a body can echo a secret. The position is kept.
 */
export function parseErrorWithoutBody(error: unknown): SyntaxError {
  const message = error instanceof Error ? error.message : ''
  const position = /position \d+/.exec(message)?.[0]
  const reason = /^Unexpected end of JSON input/.test(message) ? 'ends too early' : 'is not valid JSON'
  return new SyntaxError(`the body ${reason}${position ? ` (at ${position})` : ''}`)
}
