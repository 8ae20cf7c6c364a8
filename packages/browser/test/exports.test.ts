import * as browser from '@tokenwell/browser'
import { expect, it } from 'vitest'

it('exports exactly the public API (a change here is a deliberate API change)', () => {
  expect(Object.keys(browser).sort()).toEqual([
    'BrowserStoreError',
    'createBrowserTokenStore',
    'persistInIndexedDb',
  ])
})
