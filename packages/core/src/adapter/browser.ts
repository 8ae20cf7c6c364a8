// @tokenwell/core/adapter as a browser build resolves it (the `browser` condition): the same,
// without what only Node needs.
export * from './index.js'

/** No undici in a browser: `send()` itself (Node's checks what undici creates, see connection-check.ts). */
export const sendChecked = <T>(_authorization: unknown, _url: string, send: () => Promise<T>): Promise<T> =>
  send()
/** As `sendChecked`: `fetch` itself. */
export const checkedFetch = <F>(fetch: F): F => fetch
