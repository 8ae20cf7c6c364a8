import { expect, it } from 'vitest'
import * as main from '../src/index.js'
import * as msw from '../src/msw.js'

it('keeps the public API deliberate: sorted export names', () => {
  expect(Object.keys(main).sort()).toMatchInlineSnapshot(`
    [
      "ConfigError",
      "OAuthFailure",
      "clientAuthMethods",
      "clientCertificateOf",
      "createMockAuthServer",
      "createProtectedApi",
      "grantHandlers",
      "serveFetchHandler",
      "serveFetchHandlerTls",
      "startMockAuthServer",
      "startMockAuthServerTls",
      "startProtectedApi",
      "startProtectedApiTls",
    ]
  `)
  expect(Object.keys(msw).sort()).toMatchInlineSnapshot(`
    [
      "mockAuthHandlers",
      "mockProtectedApiHandlers",
      "server",
    ]
  `)
})
