import { setupServer } from 'msw/node'

/** An msw server for unit tests; tests add handlers with `server.use()`. */
export const server = setupServer()
