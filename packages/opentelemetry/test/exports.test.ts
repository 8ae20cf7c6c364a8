import { expect, it } from 'vitest'

it('exports exactly the public API (a change here is a deliberate API change)', async () => {
  expect(Object.keys(await import('@tokenwell/opentelemetry')).sort()).toMatchInlineSnapshot(`
    [
      "instrumentTokenProvider",
    ]
  `)
})
