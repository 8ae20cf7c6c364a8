/** Node's `util.inspect` hook, used without importing `node:util` so core stays runtime-neutral. */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never

/** What a secret looks like in logs: its length only, so two tokens can be told apart by nobody. */
export const REDACTED = '[redacted]'
