import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = [
  'core',
  'axios',
  'got',
  'fetch',
  'undici',
  'ky',
  'redis',
  'mock-server',
  'cli',
  'node',
  'opentelemetry',
  'browser',
]
const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

// Tests import packages by name and run against their sources: no build needed.
const alias = [
  { find: /^@tokenwell\/mock-server\/msw$/, replacement: src('mock-server/src/msw.ts') },
  { find: /^@tokenwell\/core\/adapter$/, replacement: src('core/src/adapter/index.ts') },
  { find: /^@tokenwell\/core\/jwt$/, replacement: src('core/src/jwt/index.ts') },
  { find: /^@tokenwell\/core\/dpop$/, replacement: src('core/src/dpop/index.ts') },
  { find: /^@tokenwell\/core\/device$/, replacement: src('core/src/device/index.ts') },
  { find: /^@tokenwell\/core\/discovery$/, replacement: src('core/src/discovery/index.ts') },
  { find: /^@tokenwell\/core\/revocation$/, replacement: src('core/src/revocation/index.ts') },
  ...packages.map((name) => ({
    find: new RegExp(`^@tokenwell/${name}$`),
    replacement: src(`${name}/src/index.ts`),
  })),
]

export default defineConfig({
  resolve: { alias },
  test: {
    // The JSON report feeds the "N passed, N failed" line printed by .ci/run (one file per Node version).
    reporters: [
      'default',
      ['json', { outputFile: process.env['VITEST_JSON_REPORT'] ?? '.vitest-results.json' }],
    ],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          setupFiles: ['./vitest.setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
