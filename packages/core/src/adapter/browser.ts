// @tokenwell/core/adapter as a browser build resolves it (the `browser` condition): the same,
// without what only Node needs.
export * from './index.js'

/** No undici in a browser: nothing to check (Node's checks what undici creates, see connection-check.ts). */
export const awaitConnection = (_authorization: unknown, _url: string): void => {}
/** As `awaitConnection`: `fetch` itself. */
export const checkedFetch = <F>(fetch: F): F => fetch
