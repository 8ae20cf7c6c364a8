/**
 * The command line itself is wrong (unknown option, missing value, conflicting flags): exit 2
 * with the command's usage. Its message never echoes an option's value, which may be a secret.
 */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE'
  /** The command whose usage to print (`token`, `demo`), or undefined for the top level. */
  readonly command: string | undefined
  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}
