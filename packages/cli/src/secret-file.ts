import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { access, open, rename, rm, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { UsageError } from './usage-error.js'

/** Fails early (exit 2, before any request) when `--refresh-token-out` cannot be written. */
export async function checkWritable(path: string, command: string): Promise<void> {
  const target = resolve(path)
  try {
    if ((await stat(target).catch(() => undefined))?.isDirectory()) {
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    }
    await access(dirname(target), constants.W_OK)
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'not writable'
    throw new UsageError(`cannot write --refresh-token-out ${path} (${reason})`, command)
  }
}

/**
 * Writes a secret to `path`, readable by its owner only (mode 0600): a new file beside it, then
 * renamed over it, so a reader never sees half a token and an old file keeps its token if this fails.
 */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  const target = resolve(path)
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`
  // 'wx': never through a file (or a link) that is already there
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.chmod(0o600) // the umask only takes bits away; be explicit anyway
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}
