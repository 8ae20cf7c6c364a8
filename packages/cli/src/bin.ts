#!/usr/bin/env node
import { processIo } from './cli-io.js'
import { main } from './main.js'

main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code
  // leave when the work is done; a straggler (a socket closing slowly) gets one second at most
  setTimeout(() => process.exit(code), 1_000).unref()
})
