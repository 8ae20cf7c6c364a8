import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// `pnpm bench:micro`: the micro benchmarks of core (*.bench.ts), against its sources.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@tokenwell\/core$/,
        replacement: fileURLToPath(new URL('../packages/core/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: [],
    benchmark: { include: ['**/*.bench.ts'] },
  },
})
