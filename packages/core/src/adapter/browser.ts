// @tokenwell/core/adapter as a browser build resolves it (the `browser` condition): the same,
// without what only Node needs.
export * from './index.js'

/** No undici dispatcher in a browser: the dispatcher itself (Node's checks it, see connection-check.ts). */
export const guardDispatcher = <D>(dispatcher: D, _grant: unknown): D => dispatcher
/** As `guardDispatcher`: `init` itself. */
export const guardInit = <I>(init: I, _grant: unknown): I => init
