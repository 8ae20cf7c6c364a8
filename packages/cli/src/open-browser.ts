import { spawn } from 'node:child_process'
import type { TextSink } from './cli-io.js'

/** The platform's "open this URL" command. */
export function browserCommand(url: string, platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]]
  // not `cmd /c start`: cmd would read & and ^ in the URL as its own syntax
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]]
  return ['xdg-open', [url]]
}

/**
 * Asks the platform to open `url` in the default browser (`--open`), best effort: the URL was
 * printed already, so a missing opener only earns a note on stderr. Only http(s) URLs are opened.
 */
export function openBrowser(
  url: string,
  stderr: TextSink,
  platform: NodeJS.Platform = process.platform,
): void {
  if (!/^https?:\/\//i.test(url)) return
  const [command, args] = browserCommand(url, platform)
  const failed = () =>
    void stderr.write(
      `tokenwell: could not start ${command} to open a browser; open the URL above yourself\n`,
    )
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true })
    child.on('error', failed)
    // the browser lives on after tokenwell exits
    child.unref()
  } catch {
    failed()
  }
}
