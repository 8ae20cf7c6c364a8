/** Something text can be written to, such as `process.stdout`. */
export interface TextSink {
  write(text: string): unknown
  /** Whether it is a terminal (progress lines redraw in place only there). */
  readonly isTTY?: boolean | undefined
}

/**
 * Everything the CLI touches outside itself, so tests can run `main()` in-process. The bin
 * passes the real process streams and environment.
 */
export interface CliIo {
  /** The result, and nothing else: a token, JSON, a header, a report. */
  stdout: TextSink
  /** Diagnostics: warnings, errors, progress. */
  stderr: TextSink
  /** Where `--…-stdin` secrets are read from. */
  stdin: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean | undefined }
  /** Where `--…-env` secrets are read from. */
  env: Readonly<Record<string, string | undefined>>
}

/** The `CliIo` of the running process. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
}
